import sys

from agent_ui.cli.main import main

sys.exit(main())
