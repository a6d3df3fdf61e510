// convfix/layout.h — conversions between the plain (NCHW) and the blocked
// (nChw16c) layout of 4-D f32 tensors (see Layout in convfix/tensor.h).
//
// Contract:
// - can_block(t): t is f32, rank 4, plain, with C % 16 == 0 and no zero dim.
// - to_blocked(t): requires can_block(t); a new kNChw16c tensor with the
//   same dims and values.
// - to_plain(t): a kPlain tensor with the same values; t itself when it is
//   already plain (no copy).
// - Both are exact (pure data movement) and run in parallel on `pool`
//   (nullptr: on the calling thread).
#pragma once

#include "convfix/tensor.h"
#include "convfix/thread_pool.h"

namespace convfix {

bool can_block(const Tensor& t);
Tensor to_blocked(const Tensor& t, ThreadPool* pool);
Tensor to_plain(const Tensor& t, ThreadPool* pool);

}  // namespace convfix
