{#- An insert-only mart's dedup: true when the mart has no row for `key` (its `key_column`, the session's key)
    among the rows loaded since the dedup horizon (a literal, docs/bounded-work.md). A copy loaded more than the
    horizon after the first is not recognised. Outside an incremental build (the first build): always true. -#}
{% macro not_written_since_horizon(key_column, key) -%}
    {%- if is_incremental() -%}
    not exists (
        select 1 from {{ this }} as known
        where known.loaded_at >= '{{ var("dedup_since") }}'::timestamp_ntz and known.{{ key_column }} = {{ key }}
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
