"""TensorBoard summaries as protocol buffers: scalars, PNG images and text, written without TensorFlow.

The tags the toolkit keeps its own bookkeeping under (the run, its params, tags and status) are
text summaries holding JSON, so TensorBoard's Text tab shows them and the reader parses them.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

RUN_TAG = "toolkit/run"
PARAMS_TAG = "toolkit/params"
TAGS_TAG = "toolkit/tags"
STATUS_TAG = "toolkit/status"


def scalars_event(values: dict, step: int) -> Any:
    """One event holding every value of one step, as float64 tensors of TensorBoard's scalars
    plugin (a ``simple_value`` would round each value to float32)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.plugins.scalar import metadata

    summary = summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(
            tag=tag, metadata=metadata.create_summary_metadata(display_name=tag, description=""),
            tensor=tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[float(value)],
                                          tensor_shape=tensor_shape_pb2.TensorShapeProto()))
        for tag, value in values.items()])
    return event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)


def is_scalar(accumulator: Any, tag: str) -> bool:
    """Whether a tensor tag of the reader holds scalars (rather than the toolkit's text)."""
    from tensorboard.plugins.scalar import metadata

    return accumulator.SummaryMetadata(tag).plugin_data.plugin_name == metadata.PLUGIN_NAME


def scalar_of(tensor_event: Any) -> float:
    return float(tensor_event.tensor_proto.double_val[0])


def text_event(tag: str, document: Any, step: int = 0) -> Any:
    """A text summary; ``document`` is stored as JSON inside a Markdown code block."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.plugins.text import metadata

    text = "```\n" + json.dumps(document, indent=2, sort_keys=True, default=str) + "\n```"
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[text.encode("utf-8")],
                                    tensor_shape=tensor_shape_pb2.TensorShapeProto())
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor,
                                      metadata=metadata.create_summary_metadata(display_name=tag, description=""))
    return event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=[value]))


def image_event(tag: str, png: bytes, step: int) -> Any:
    """An image summary of encoded PNG (or JPEG) bytes."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    image = summary_pb2.Summary.Image(encoded_image_string=png)
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, image=image)])
    return event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def text_of(tensor_event: Any) -> Any:
    """The JSON document a :func:`text_event` stored, from the reader's tensor event."""
    text = tensor_event.tensor_proto.string_val[0].decode("utf-8")
    return json.loads(text.strip().removeprefix("```").removesuffix("```"))
