"""Each builder's config is derived from what it mirrors: the same fields, types and defaults."""

from __future__ import annotations

import dataclasses
import typing

from builders.hil_serl.hil_serl_dataset_builder import HilSerlConfig
from rldg_data.imports.hil_serl import ImportOptions


def test_hil_serl_config_has_every_import_option_with_its_default_and_type():
    config_fields = {f.name: f for f in dataclasses.fields(HilSerlConfig)}
    option_hints = typing.get_type_hints(ImportOptions)
    for field in dataclasses.fields(ImportOptions):
        assert field.name in config_fields, f"HilSerlConfig lacks ImportOptions.{field.name}"
        assert config_fields[field.name].default == field.default, field.name
        assert config_fields[field.name].type == option_hints[field.name], field.name
    assert "policy_id" in config_fields  # the field the hand-written config had lost
    assert HilSerlConfig(name="x").options() == ImportOptions()
    options = HilSerlConfig(name="x", policy_id="p7", cameras=["side", "wrist_1"], source="human").options()
    assert options == ImportOptions(policy_id="p7", cameras=("side", "wrist_1"), source="human")
