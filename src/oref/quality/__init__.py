"""Quality: check results (``checks``), GX suites (``gx_runner``), the run's record (``store``) and report."""
