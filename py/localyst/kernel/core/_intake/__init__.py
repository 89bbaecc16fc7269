"""Understanding the person's files inside the kernel: what each one is, whether it can be
used, a bounded look inside, safe unpacking of archives, and the scan the model is shown.

Runs in the kernel (Pyodide or CPython) and knows nothing of the page or the model; the
readers (pandas, pyarrow, Pillow, openpyxl, ...) are imported only when a file needs them.
"""

from ._check import BIG_FILE_BYTES, check
from ._detect import detect
from ._load import load_readers
from ._messages import IntakeError
from ._preview import preview
from ._scan import scan
from ._zip import extract_zip

__all__ = ["BIG_FILE_BYTES", "IntakeError", "check", "detect", "extract_zip", "load_readers", "preview", "scan"]
