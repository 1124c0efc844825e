"""Start the web app: validate the settings and the port, then serve with uvicorn."""

import uvicorn

from common.logging import uvicorn_log_config
from common.startup import StartupError, exit_with, load_settings, require_free_port
from webapp.core.config import WebAppSettings
from webapp.main import create_app

PROGRAM = "webapp"


def main() -> None:
    try:
        settings = load_settings(WebAppSettings)
        settings.check_secrets()
        require_free_port(settings.host, settings.port, "web app", "WEBAPP_PORT")
        log_config = uvicorn_log_config("webapp", settings.log_level)  # LOG_FORMAT
    except ValueError as error:
        exit_with(StartupError(str(error)), PROGRAM)
    except StartupError as error:
        exit_with(error, PROGRAM)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config,
        # X-Forwarded-For is believed from these proxies only (the login throttle's address).
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()
