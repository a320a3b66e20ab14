"""The event_simulation DAG maps the generator over N producers and every event reaches the stream once."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

import boto3
import pytest

from mobile_events_elt.data_generation.generator import EventGenerator
from mobile_events_elt.data_generation.shares import Share
from tests.support.kinesis import lines_by_shard, make_stream
from tests.support.paths import REPO

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
DAGS = str(REPO / "dags")


def _xcom(run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id, key="return_value")
            .one()
        )
        return XComModel.deserialize_value(row)


@pytest.mark.parametrize("producers", [2, 4])
def test_the_dag_maps_producers_and_every_event_arrives_once(
    aws_endpoint: str, airflow_home: Any, producers: int
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    kinesis = boto3.client("kinesis")
    stream = make_stream(kinesis, shards=4)
    dag = DagBag(dag_folder=DAGS).get_dag("event_simulation")
    events = 2001  # not a multiple of the producers: the first ones send one more
    run = dag.test(run_conf={"events": events, "users": 400, "producers": producers, "seed": 8, "stream": stream})
    assert run.state == "success"
    mapped = [ti for ti in run.get_task_instances() if ti.task_id == "generate"]
    assert sorted(ti.map_index for ti in mapped) == list(range(producers))
    report = _xcom(run, "report")
    by_shard = {
        shard: [json.loads(data) for data, _ in found] for shard, found in lines_by_shard(kinesis, stream).items()
    }
    records = [record for shard in by_shard.values() for record in shard]
    assert Counter(Counter(r["EVENT_ID"] for r in records).values()) == {1: events}, "every event once"
    assert report["unique_events"] == report["sent"] == events and report["producers"] == producers
    assert sorted(part["unique_events"] for part in report["parts"]) == sorted(
        Share(i, producers).events(events) for i in range(producers)
    )
    # Each producer's users are its own, and its partition keys (the user ids) reach every shard.
    shard_of = {r["USER_ID"]: shard for shard, part in by_shard.items() for r in part}
    owners: dict[str, set[int]] = defaultdict(set)
    for part in report["parts"]:
        generator = EventGenerator(seed=8, users=400, share=Share(part["producer"], producers))
        for user in generator.population.users:
            owners[user.user_id].add(part["producer"])
        assert {shard_of[u.user_id] for u in generator.population.users if u.user_id in shard_of} == set(by_shard)
    assert all(len(found) == 1 for found in owners.values()) and len(owners) == 400
    assert report["timestamps"] == "live"
