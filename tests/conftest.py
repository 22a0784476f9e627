pytest_plugins = ["pg_server", "browser"]
