"""The exporter: Optimum's export, decoder merging, int8 and OpenVINO IR, run in their own environment.

`client` (serving side) starts `worker` with `.venv-export`'s Python; `steps` holds the build steps, which only
the worker imports. See deploy/exporter/requirements.txt for why the two environments are separate.
"""
