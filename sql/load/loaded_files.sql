-- Files the audit already knows (loaded, failed for a reason that needs a person, or rejected by key).
select
    audit.file_name,
    audit.file_etag,
    audit.status,
    audit.error
from raw.load_audit as audit
