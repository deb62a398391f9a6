"""Put this distribution's plugin into toolkit.testing's plugin manager, installed or not."""

import pytest


@pytest.fixture
def toolkit_plugins():
    from toolkit_custom_metrics import plugin

    return [plugin]
