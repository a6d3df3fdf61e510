"""Small helpers to read and mutate ONNX models with the `onnx` package
(python3-onnx 1.12): initializers as numpy arrays, attributes, node lookup,
node insertion. Used by make_faults.py; every mutation works on a copy."""
import numpy as np
import onnx
from onnx import helper, numpy_helper


def node_by_name(m, name):
    for n in m.graph.node:
        if n.name == name:
            return n
    raise KeyError(f"no node named {name!r}")


def nodes(m, op=None, pred=None):
    out = []
    for n in m.graph.node:
        if op is not None and n.op_type != op:
            continue
        if pred is not None and not pred(n):
            continue
        out.append(n)
    return out


def attr(n, name, default=None):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def set_attr(n, name, value):
    for i, a in enumerate(n.attribute):
        if a.name == name:
            del n.attribute[i]
            break
    n.attribute.append(helper.make_attribute(name, value))


def del_attr(n, name):
    for i, a in enumerate(n.attribute):
        if a.name == name:
            del n.attribute[i]
            return


def inits(m):
    return {i.name: i for i in m.graph.initializer}


def get_init(m, name):
    return numpy_helper.to_array(inits(m)[name])


def consumers(m, tensor):
    return [n for n in m.graph.node if tensor in n.input]


def set_init(m, name, arr, owner=None):
    """Replaces initializer `name` by `arr`. When other nodes than `owner`
    also read it, a private copy named name + '_faulty' is made for `owner`
    instead, so that only that node changes."""
    if owner is not None and len(consumers(m, name)) > 1:
        new = name + "_faulty"
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(arr), new))
        for k, i in enumerate(owner.input):
            if i == name:
                owner.input[k] = new
        return new
    for k, i in enumerate(m.graph.initializer):
        if i.name == name:
            m.graph.initializer[k].CopyFrom(numpy_helper.from_array(np.asarray(arr), name))
            return name
    raise KeyError(name)


def strip_param_identities(m):
    """torch.onnx deduplicates equal parameters and re-creates the copies as
    Identity nodes reading the kept one; give each copy its own initializer
    (what an export without deduplication holds) and drop those Identities."""
    init = inits(m)
    keep = []
    added = []
    for n in m.graph.node:
        if n.op_type == "Identity" and n.input[0] in init:
            t = onnx.TensorProto()
            t.CopyFrom(init[n.input[0]])
            t.name = n.output[0]
            added.append(t)
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    m.graph.initializer.extend(added)
    return len(added)


def insert_before(m, consumer, input_index, new_nodes, new_output):
    """Inserts new_nodes (already wired from consumer.input[input_index] to
    new_output) right before `consumer` and rewires that input."""
    pos = list(m.graph.node).index(consumer)
    consumer.input[input_index] = new_output
    for k, n in enumerate(new_nodes):
        m.graph.node.insert(pos + k, n)


def rename_all(m, old, new):
    for n in m.graph.node:
        for k, i in enumerate(n.input):
            if i == old:
                n.input[k] = new
    for o in m.graph.output:
        if o.name == old:
            o.name = new


def producer(m, tensor):
    for n in m.graph.node:
        if tensor in n.output:
            return n
    return None


def opset(m):
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return None
