"""OpenVLA's source without its model stack, importable in .venv-interop (used by the side scripts).

`prismatic/__init__.py` and `prismatic/models/...` import OpenVLA's model stack (timm, torchvision,
flash-attn, the LLM and vision backbones), which .venv-interop does not hold: the 7B model cannot
run here. What does run is its data path (`prismatic.vla`, `prismatic.vla.datasets`,
`prismatic.vla.action_tokenizer`, `prismatic.util.data_utils`, the prompt builders of
`prismatic.models.backbones.llm.prompting`), so `install` registers empty package modules, with
`__path__` set to the source folders, for the packages whose `__init__` loads the model stack; every
module below them is OpenVLA's own file. `prismatic.models.backbones.vision` becomes a module
holding only `ImageTransform`, the Protocol that datasets.py imports as a type annotation (the real
one lives in base_vision.py beside timm). The DROID transform's `tensorflow_graphics` import gets an
empty module (nothing else uses it; it does not install with TF 2.15 here).

Also usable as `sitecustomize` (tests/interop/test_openvla_launch.py): with RLDG_OPENVLA_SRC set,
`import openvla_stubs` at interpreter start installs them.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Protocol

PACKAGES = ("prismatic", "prismatic.models", "prismatic.models.backbones", "prismatic.models.backbones.llm")
EMPTY = ("tensorflow_graphics", "tensorflow_graphics.geometry", "tensorflow_graphics.geometry.transformation")


class ImageTransform(Protocol):
    """OpenVLA's ImageTransform protocol (a PIL image -> pixel values); a type annotation only."""

    def __call__(self, img, **kwargs): ...


def install(src: str) -> None:
    """Makes OpenVLA's source at `src` (the folder holding prismatic/) importable without its model stack."""
    for name in PACKAGES:
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(src, *name.split("."))]
        module.__file__ = os.path.join(src, *name.split("."), "__init__.py")
        sys.modules[name] = module
    vision = types.ModuleType("prismatic.models.backbones.vision")
    vision.ImageTransform = ImageTransform
    sys.modules[vision.__name__] = vision
    for name in EMPTY:
        sys.modules[name] = types.ModuleType(name)
    if src not in sys.path:
        sys.path.insert(0, src)


if os.environ.get("RLDG_OPENVLA_SRC"):
    install(os.environ["RLDG_OPENVLA_SRC"])
