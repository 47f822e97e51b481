"""The built-in scenarios (YAML files in this folder, installed as ``posim.scenarios``)."""
