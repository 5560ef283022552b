"""The generation-time proxy: an OpenAI-compatible server in front of a model server that
attributes the code of every answer (see SPEC.md, "Generation-time proxy")."""

from attribution.proxy.app import Proxy
from attribution.proxy.attributor import Attributor
from attribution.proxy.choice import MODES, Settings

__all__ = ["MODES", "Attributor", "Proxy", "Settings"]
