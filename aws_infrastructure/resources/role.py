"""An IAM role with one trust policy and one inline policy, kept equal to the documents we compute.

An inline policy (rather than a managed one) lives and dies with its role, so `down` leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.errors import error_code
from mobile_events_elt.aws_infrastructure.policies import Policy, same
from mobile_events_elt.aws_infrastructure.resources.base import Change, Resource


class Role(Resource):
    def __init__(
        self,
        aws: Aws,
        kind: str,
        name: str,
        description: str,
        trust: Callable[[], Policy],
        policy_name: str,
        policy: Callable[[], Policy],
    ) -> None:
        self.kind = kind
        self.name = name
        self.description = description
        self.trust = trust
        self.policy_name = policy_name
        self.policy = policy
        self.iam = aws.client("iam")
        self.arn = aws.role_arn(name)

    def _role(self) -> dict[str, Any] | None:
        try:
            return self.iam.get_role(RoleName=self.name)["Role"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise

    def _inline_policy(self) -> Policy | None:
        try:
            return self.iam.get_role_policy(RoleName=self.name, PolicyName=self.policy_name)["PolicyDocument"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise

    def exists(self) -> bool:
        return self._role() is not None

    def changes(self) -> list[Change]:
        role = self._role()
        if role is None:
            return [self.change("create", f"with inline policy {self.policy_name}", self._create)]
        changes = []
        if not same(role["AssumeRolePolicyDocument"], self.trust()):
            changes.append(self.change("update", "trust policy", self._put_trust))
        if not same(self._inline_policy(), self.policy()):
            changes.append(self.change("update", f"inline policy {self.policy_name}", self._put_policy))
        return changes

    def _create(self) -> None:
        self.iam.create_role(
            RoleName=self.name, AssumeRolePolicyDocument=_json(self.trust()), Description=self.description
        )
        self._put_policy()

    def _put_trust(self) -> None:
        self.iam.update_assume_role_policy(RoleName=self.name, PolicyDocument=_json(self.trust()))

    def _put_policy(self) -> None:
        self.iam.put_role_policy(RoleName=self.name, PolicyName=self.policy_name, PolicyDocument=_json(self.policy()))

    def removal(self, force: bool) -> Change | None:
        if not self.exists():
            return None
        return self.change("delete", "and its policies", self._delete)

    def _delete(self) -> None:
        for name in self.iam.list_role_policies(RoleName=self.name)["PolicyNames"]:
            self.iam.delete_role_policy(RoleName=self.name, PolicyName=name)
        for attached in self.iam.list_attached_role_policies(RoleName=self.name)["AttachedPolicies"]:
            self.iam.detach_role_policy(RoleName=self.name, PolicyArn=attached["PolicyArn"])
        self.iam.delete_role(RoleName=self.name)


def _json(document: Policy) -> str:
    return json.dumps(document)
