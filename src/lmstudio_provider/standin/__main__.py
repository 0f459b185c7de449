"""``python -m lmstudio_provider.standin``: serve the stand-in until stopped."""

from lmstudio_provider.standin import main

raise SystemExit(main())
