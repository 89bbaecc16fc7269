"""The messages between the page, the app worker and the kernel worker, defined once.

The kernel worker runs code the model wrote, so everything it sends is untrusted data.
``parse_kernel_message`` turns one raw message into a typed one, or raises ``Malformed``;
``clean_output`` and ``clean_result`` keep only what the page knows how to show safely,
and are applied both where a message is received and where a stored record is drawn.
"""

from ._kernel import (
    KERNEL_MESSAGES,
    Error,
    Failed,
    FileReply,
    Malformed,
    Output,
    Ready,
    Result,
    Started,
    Startup,
    Status,
    parse_kernel_message,
    parse_startup,
)
from ._page import APP_MESSAGES, BUTTON_ACTIONS, PAGE_ACTIONS, PAGE_MESSAGES, Early, ModelFile, PageAction, Restore, SaveSvg, page_files, parse_page_action
from ._model import HEAD, MODEL_MESSAGES, TO_MODEL, Delta, Done, Head, Kept, Loaded, ModelError, ModelMessage, Progress, parse_model_message
from ._outputs import BOKEH_MIME, PLOTLY_MIME, TABLE_MIME, UNSHOWABLE, clean_output, clean_result, is_base64, unshowable

__all__ = [
    "APP_MESSAGES",
    "BOKEH_MIME",
    "BUTTON_ACTIONS",
    "Early",
    "ModelFile",
    "MODEL_MESSAGES",
    "TO_MODEL",
    "Delta",
    "Done",
    "HEAD",
    "Head",
    "Kept",
    "Loaded",
    "ModelError",
    "ModelMessage",
    "Progress",
    "parse_model_message",
    "PAGE_ACTIONS",
    "PAGE_MESSAGES",
    "PageAction",
    "Restore",
    "SaveSvg",
    "page_files",
    "parse_page_action",
    "Error",
    "Failed",
    "FileReply",
    "KERNEL_MESSAGES",
    "Malformed",
    "Output",
    "Ready",
    "Result",
    "Started",
    "Startup",
    "Status",
    "parse_startup",
    "PLOTLY_MIME",
    "TABLE_MIME",
    "UNSHOWABLE",
    "clean_output",
    "clean_result",
    "is_base64",
    "parse_kernel_message",
    "unshowable",
]
