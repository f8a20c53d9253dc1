"""ChatWait's chat UI: a Chainlit app that talks to the backend over HTTP only.

`app.py` holds the Chainlit handlers, `modes/` one module per response mode,
`client/` every request to the backend, and `cli.py` the `chatwait-ui` command.
"""

import os
from pathlib import Path

# Chainlit reads `.chainlit/config.toml`, `chainlit.md` and `public/` from its app root,
# and writes `.files/` there, as soon as it is imported. Pointing it at this folder first
# makes that the same for `chatwait-ui`, `chainlit run frontend/chatwait_ui/app.py` and
# the tests, whatever the working directory, and for the installed wheel (which carries
# `.chainlit/` and `chainlit.md` inside the package).
os.environ.setdefault("CHAINLIT_APP_ROOT", str(Path(__file__).resolve().parent))
