"""The contract as TFDS features: names, sizes, and reading the sizes back."""

from __future__ import annotations

from rldg_data.contract import spec, tfds_json


def test_features_have_every_contract_field():
    feats = tfds_json.features_for(spec.DatasetSpec(image_size=64, wrist=True, state_dim=7, action_dim=7, privileged_dim=12))
    steps = feats[spec.STEPS].feature
    for path in spec.STEP_DTYPES:
        node = steps
        for part in spec.split_path(path):
            node = node[part]
    assert set(feats[spec.EPISODE_METADATA].keys()) == set(spec.METADATA_TYPES)
    assert steps["observation"]["image"].shape == (64, 64, 3)
    assert steps["action"].shape == (7,)


def test_spec_round_trips_through_features():
    for s in (spec.DatasetSpec(), spec.DatasetSpec(32, True, 9, 7, "png"), spec.DatasetSpec(privileged_dim=39)):
        assert tfds_json.spec_from_features(tfds_json.features_for(s)) == s


def test_sources_are_the_contract_values():
    assert set(spec.SOURCES) == {"rl", "human", "intervention", "scripted"}
