"""rldg-data: datasets, pipelines and trainers for RLDG (RL specialists distilled into generalists).

One distribution installs the six top-level packages of the layout and the `rldg` command.
Versions are pinned in constraints.txt (install with `pip install -c constraints.txt -e .[dev]`,
as the Makefile does); the ranges here only name what each package needs.
"""

from setuptools import setup

PACKAGES = ["rldg_data", "builders", "collectors", "trainers", "viz", "robot_io"]

setup(
    name="rldg-data",
    version="0.1.0",
    description="RLDS datasets, Beam pipelines and trainers for RLDG policy distillation",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=[p for p in __import__("setuptools").find_packages(include=[f"{p}*" for p in PACKAGES])],
    package_data={"": ["*.md", "*.bib", "*.txt", "*.tsv", "*.yaml", "*.json", "*.ipynb", "*.html",
                       "dummy_data/**/*"],
                  "viz.view": ["static/*"]},  # the viewer's page, script and style (no CDN)
    include_package_data=True,
    install_requires=[
        "numpy>=2",
        "protobuf>=5.28,<7",
        "tensorflow-cpu>=2.21",
        "tensorflow-datasets>=4.9.10",
        "mlcroissant",
        "importlib_resources",
        "apache-beam[dask]>=2.77",
        "dask[distributed]",
        "envlogger==1.2",
        "rlds==0.1.8",
        "dm-env",
        "torch>=2.13",
        "jax[cpu]",
        "flax",
        "optax",
        "metaworld==3.1.1",
        "mujoco==3.3.0",
        "packaging",
        "gymnasium",
        "matplotlib",
        "imageio",
        "imageio-ffmpeg",
        "pillow",
        "simplejpeg",
        "google-crc32c",
        "pyyaml",
        "tqdm",
        "rich",
        "psutil",
        "pyarrow",
        "av",
        "datasets",
        "scipy",  # rotations of robot_io.franka (already pulled in by jax; named since we import it)
    ],
    extras_require={
        # dill: tfds.testing (the builders' <name>_dataset_builder_test.py) imports it
        "dev": ["pytest", "pytest-timeout", "hypothesis", "nbclient", "nbformat", "ipykernel", "dill"],
        # RealSense cameras on a real robot (robot_io.cameras.realsense); not needed for the simulator
        "realsense": ["pyrealsense2"],
    },
    entry_points={
        "console_scripts": ["rldg=rldg_data.cli:main"],
        # Subcommands of `rldg`: each package registers its own here (see rldg_data.cli).
        # A name whose module is not written yet is skipped with a warning by `rldg`.
        "rldg.commands": [
            "validate=rldg_data.validation.cli:register_validate",
            "mix=rldg_data.mix.cli:register_mix",
            "stats=rldg_data.stats.cli:register_stats",
            "export=rldg_data.exports.cli:register_export",
            "pack=rldg_data.sharing.cli:register_pack",
            "unpack=rldg_data.sharing.cli:register_unpack",
            "verify=rldg_data.sharing.cli:register_verify",
            "collect=collectors.cli:register_collect",
            "specialist=trainers.specialist.cli:register_specialist",
            "import=collectors.cli:register_import",
            "generalist=trainers.generalist.cli:register_generalist",
            "finetune=trainers.finetune_cli:register_finetune",
            "demo=trainers.demo.cli:register_demo",
            "show=viz.cli:register_show",
            "report=viz.cli:register_report",
            "view=viz.cli:register_view",
        ],
        # Loaders of policy checkpoints by format name (rldg_data.policy.load_policy finds them).
        "rldg.policies": [
            "specialist=trainers.specialist.checkpoint:load_policy",
            "generalist=trainers.generalist.checkpoint:load_policy",
        ],
    },
)
