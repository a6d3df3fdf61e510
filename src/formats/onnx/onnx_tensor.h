// Internal: conversion between onnx::TensorProto / TypeProto and IR types.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix::onnxfmt {

Expected<DType> dtype_from_onnx(int32_t t);
int32_t dtype_to_onnx(DType t);
// base_dir: folder for external data ("" disables external data).
Expected<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir);
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p);
ValueInfo value_info_from_proto(const onnx::ValueInfoProto& p);
void value_info_to_proto(const ValueInfo& v, onnx::ValueInfoProto* p);

}  // namespace convfix::onnxfmt
