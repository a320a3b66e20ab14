"""mobile_events_elt: real-time ELT for mobile-app events (Kinesis -> Firehose -> S3 -> Snowflake, on Airflow).

One import root for the project's packages, so their names cannot collide with another project's on a shared
Airflow worker: ``config`` (settings and clients, the bottom layer), ``data_generation``, ``aws_infrastructure``,
``warehouse``, ``local_stack`` (the emulator stack, on top) and ``sql`` (the SQL files, read with
``importlib.resources``). The layers are declared in pyproject.toml (``[tool.importlinter]``).
"""
