"""The seed's transform API as aliases: register_transform_functor, BaseTransform, HFDatasetTransform."""

from __future__ import annotations

import sys

import pytest

import runway
import runway.compat
from runway.compat.transforms import HFAliasUnavailable, hf_dataset_transform
from runway.errors import PluginError
from runway.pipeline.transform import forget_project_transforms, project_transforms


@pytest.fixture
def forget_registrations():
    yield
    forget_project_transforms(__name__)


def test_a_seed_transform_registers_and_runs(forget_registrations):
    from runway.compat import BaseTransform, register_transform_functor

    @register_transform_functor
    class Shout(BaseTransform):
        def setup(self, field="text"):
            self.field = field

        def _call(self, rows):
            return [{**r, self.field: r[self.field].upper()} for r in rows]

    assert issubclass(Shout, runway.Transform)
    assert "Shout" in {entry.name for entry in project_transforms()}
    transform = Shout()
    transform.setup(field="t")
    assert transform([{"t": "a"}]) == [{"t": "A"}]
    assert transform.name == "Shout"
    # the seed's constructor arguments are still accepted
    named = Shout(name="loud", input_mapping={"a": "b"}, global_config={"meta": {}})
    assert (named.name, named.input_mapping, named.global_config) == ("loud", {"a": "b"}, {"meta": {}})


def test_a_class_not_derived_from_a_transform_is_refused(forget_registrations):
    from runway.compat import register_transform_functor

    with pytest.raises(runway.errors.PipelineError, match="is not a runway.Transform subclass"):

        @register_transform_functor
        class Plain:
            def _call(self, data):
                return data


def test_hf_dataset_transform_is_runway_hf_s_with_the_seed_s_setup():
    runway_hf = pytest.importorskip("runway_hf")
    from runway.compat import HFDatasetTransform

    assert issubclass(HFDatasetTransform, runway_hf.HFDatasetTransform)

    class Renaming(HFDatasetTransform):
        def setup(self, rename_col_dict, extra=1):
            super().setup(rename_col_dict)  # positional, as the seed's own tokenize transform calls it

    transform = Renaming()
    transform.setup({"a": "b"})
    assert transform.rename_col_dict == {"a": "b"}
    assert transform.splits_to_process == ["train", "test", "validation"]
    assert transform._check_input([1, 2]) is None  # the seed checked nothing: list inputs pass


def test_without_runway_hf_the_alias_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "runway_hf", None)  # makes `import runway_hf` fail
    monkeypatch.delitem(vars(runway.compat), "HFDatasetTransform", raising=False)
    with pytest.raises(HFAliasUnavailable, match=r"pip install runway-hf") as caught:
        hf_dataset_transform()
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, PluginError)
    with pytest.raises(ImportError, match="runway-hf"):
        from runway.compat import HFDatasetTransform  # noqa: F401


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        runway.compat.Nope  # noqa: B018
