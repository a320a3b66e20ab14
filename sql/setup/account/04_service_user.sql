-- Account objects, step 4 of 5, as SECURITYADMIN (CREATE USER through USERADMIN, CREATE NETWORK POLICY).
-- The pipeline signs in as a service user with a key pair: TYPE = SERVICE users cannot have a password,
-- so there is no password to leak or rotate. &{public_key} is the public key's base64 body (no PEM lines).

use role securityadmin;

-- Logins for the pipeline's users (this one, and the read-only one of step 5) only from the addresses the
-- pipeline runs on (Airflow's egress).
create network policy if not exists &{network_policy}
allowed_ip_list = (&{allowed_ip_list})
comment = 'mobile-events pipeline: where its service users may sign in from';

create user if not exists &{user}
type = service
default_role = &{role}
default_warehouse = &{warehouse}
default_namespace = &{database}.raw
rsa_public_key = '&{public_key}'
comment = 'mobile-events pipeline (Airflow), key-pair authentication only';

alter user &{user} set network_policy = &{network_policy};

grant role &{role} to user &{user};
