-- Files the audit already knows (loaded, or failed for a reason that needs a person).
select
    file_name,
    file_etag
from raw.load_audit
