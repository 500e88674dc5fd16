"""The plugin's Django app: signal receivers in Studio (and the LMS, for catalog events)."""

from django.apps import AppConfig


class EduVaultOpenEdxConfig(AppConfig):
    name = "eduvault_openedx"
    verbose_name = "Edu Vault"

    # edx-django-utils plugin configuration: receivers and settings, per project type.
    plugin_app = {
        "settings_config": {
            "cms.djangoapp": {"common": {"relative_path": "settings.common"}},
            "lms.djangoapp": {"common": {"relative_path": "settings.common"}},
        },
        "signals_config": {
            "cms.djangoapp": {
                "relative_path": "handlers",
                "receivers": [
                    {
                        "receiver_func_name": "course_published",
                        "signal_path": "xmodule.modulestore.django.COURSE_PUBLISHED",
                        "dispatch_uid": "eduvault_openedx.course_published",
                    },
                    {
                        "receiver_func_name": "xblock_published",
                        "signal_path": "openedx_events.content_authoring.signals.XBLOCK_PUBLISHED",
                        "dispatch_uid": "eduvault_openedx.xblock_published",
                    },
                    {
                        "receiver_func_name": "xblock_deleted",
                        "signal_path": "openedx_events.content_authoring.signals.XBLOCK_DELETED",
                        "dispatch_uid": "eduvault_openedx.xblock_deleted",
                    },
                    {
                        "receiver_func_name": "catalog_info_changed",
                        "signal_path": "openedx_events.content_authoring.signals.COURSE_CATALOG_INFO_CHANGED",
                        "dispatch_uid": "eduvault_openedx.catalog_info_changed",
                    },
                ],
            },
        },
    }
