// convfix/thread_pool.h — a small fixed-size thread pool for kernels.
//
// Contract: parallel_for(n, fn) calls fn(begin, end) on disjoint ranges that
// cover [0, n) exactly once and returns when all are done. With one thread
// (or n small) everything runs on the calling thread. Calls from inside a
// parallel_for body run serially (no nested parallelism, no deadlock).
// Results never depend on the number of threads as long as fn writes
// disjoint outputs per index.
// Built with OpenMP (the default), the threads are the OpenMP team that
// oneDNN uses as well; otherwise the pool owns threads-1 worker threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace convfix {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  // grain: minimum number of indices per task.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

 private:
  void worker_loop(int id);

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 0, next_ = 0;
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

// Runs fn over [0, n) on pool when given, else serially.
void parallel_for(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                  int64_t grain = 1);

}  // namespace convfix
