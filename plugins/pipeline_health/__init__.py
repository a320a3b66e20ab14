"""The "Pipeline health" page inside the Airflow UI (see health_plugin.py)."""
