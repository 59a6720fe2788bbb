"""oref: indicator warehouse for France's regional employment-training observatories."""

__version__ = "0.1.0"
