{#-
    The indicator layer: models/marts/indicators/ind_<family>.sql computes the indicators whose
    codes start with <family>_ from the facts and dimensions, in the shape indicator_rows gives;
    mart_indicators unions the models listed by indicator_models(). The seed indicator_catalogue
    names each code's model (column model), and the test
    assert_indicator_catalogue_matches_the_indicator_models checks both ways.
-#}


{#-
    The indicator models, in the order mart_indicators unions them. ind_growth, the year-on-year
    changes of indicators of other families, reads their models and comes after them.
-#}
{% macro indicator_models() -%}
    {{ return([
        'ind_urssaf',
        'ind_sirene',
        'ind_mcf',
        'ind_arcep',
        'ind_bmo',
        'ind_offers',
        'ind_tensions',
        'ind_skills',
        'ind_growth',
    ]) }}
{%- endmacro %}


{#-
    One indicator's rows in the shape every indicator model returns (indicator_code,
    territory_level, territory_code, period, value, numerator, denominator, suppressed_count,
    source_vintage, series_definition, value_note), read from `relation`, which has
    territory_level, territory_code, period and source_vintage. Give either `value`, a SQL
    expression, or `numerator` and `denominator`: then value is numerator / denominator (NULL when
    the denominator is 0) and both are published beside it. `definition` (SQL) names the
    definition a period was computed under (BMO: the FAP nomenclature): two periods compare only
    when it is the same. `note` (SQL, French) says why a value is NULL.
-#}
{% macro indicator_rows(code, relation, value=none, numerator=none, denominator=none,
                        suppressed_count='0', where=none, definition='null', note='null') -%}
    select
        '{{ code }}' as indicator_code,
        territory_level,
        territory_code,
        period,
        {%- if value is none %}
        cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0) as value,
        {%- else %}
        cast({{ value }} as double precision) as value,
        {%- endif %}
        cast({{ numerator if numerator is not none else 'null' }} as double precision) as numerator,
        cast({{ denominator if denominator is not none else 'null' }} as double precision) as denominator,
        {{ suppressed_count }} as suppressed_count,
        source_vintage,
        cast({{ definition }} as varchar) as series_definition,
        cast({{ note }} as varchar) as value_note
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}


{#-
    The total of cells some of which are secret (BMO "*", Urssaf blanks), from three aggregates of
    the same cells: `total` (the sum of the published cells), `published_cells` and `secret_cells`
    (their counts). The total of the published cells when there is one, NULL (unknown) when every
    cell is secret, 0 only when there is no cell at all: a secret cell is never read as 0.
-#}
{% macro secret_aware_sum(total, published_cells, secret_cells) -%}
    case
        when {{ published_cells }} > 0 then {{ total }}
        when {{ secret_cells }} = 0 then 0
    end
{%- endmacro %}


{#-
    The French note of a value computed over cells some of which are secret: NULL when no cell is
    secret; "every cell is secret" when `published` (a count or a sum of the published cells) is
    0 or NULL; otherwise the number of secret cells left out, the value being a minimum.
-#}
{% macro secret_note(published, secret_cells) -%}
    case
        when {{ secret_cells }} = 0 then null
        when coalesce({{ published }}, 0) = 0
            then 'secret statistique : toutes les cellules (' || {{ secret_cells }} || ') sont sous secret'
        else 'secret statistique : ' || {{ secret_cells }} || ' cellule(s) non publiée(s), non comptée(s)'
    end
{%- endmacro %}
