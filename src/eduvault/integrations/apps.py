import importlib
import importlib.util
import pkgutil

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "eduvault.integrations"
    label = "integrations"
    verbose_name = "Sources and integrations"

    def ready(self) -> None:
        # Each platform's package registers itself from its ``integration`` module.
        import eduvault.integrations as package

        for module in pkgutil.iter_modules(package.__path__):
            name = f"{package.__name__}.{module.name}"
            if module.ispkg and importlib.util.find_spec(f"{name}.integration") is not None:
                importlib.import_module(f"{name}.integration")
