"""Mobile-app event generator and Kinesis producer. Run ``mobile-events-generate --help``.

Modules, in the order data flows through them:
- settings: config/generator.json (the seed's value sets and the simulation's knobs), checked once.
- population: users built once with Faker pools; ids: unique, reproducible event ids.
- generator: seed-shaped events (``EventGenerator``) and ``to_line``.
- faults: duplicates and malformed records; late events come from the generator itself.
- pipeline: the run loop (count/duration, rate, progress, cooperative stop).
- sinks: the sink interface and the NDJSON file/stdout sink; producer: ``KinesisProducer``.
- spool / replay: the dead-letter file and ``replay-spool``; report: what a run delivered.
- throttle, progress, cli, simulation (the Airflow task's entry point).
"""
