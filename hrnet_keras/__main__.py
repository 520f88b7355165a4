import sys

from hrnet_keras.cli import main

sys.exit(main())
