#include "convfix/thread_pool.h"

#include <algorithm>
#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace convfix {

namespace {
thread_local bool t_inside_pool = false;
}

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
#ifndef _OPENMP  // with OpenMP the OpenMP team is the pool (see parallel_for)
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
#endif
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int /*id*/) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t, int64_t)>* job;
    int64_t n, chunk;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      if (!job) continue;  // the job finished before this worker woke
      n = job_n_;
      chunk = job_chunk_;
      ++active_;
    }
    t_inside_pool = true;
    for (;;) {
      int64_t b;
      {
        std::lock_guard<std::mutex> lk(mu_);
        b = next_;
        next_ += chunk;
      }
      if (b >= n) break;
      (*job)(b, std::min(n, b + chunk));
    }
    t_inside_pool = false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      --active_;
    }
    done_cv_.notify_all();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (threads_ == 1 || t_inside_pool || n <= grain) {
    fn(0, n);
    return;
  }
  const int64_t tasks = std::min<int64_t>(threads_ * 4, (n + grain - 1) / grain);
  const int64_t chunk = (n + tasks - 1) / tasks;
#ifdef _OPENMP
  // One OpenMP team serves both these loops and oneDNN (which runs on
  // libgomp too), so the two never compete for the cores: a separate pool
  // would wake its threads while the OpenMP team still spins after a
  // oneDNN call. Chunks go to whichever thread asks first.
  if (omp_in_parallel()) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  const int team = static_cast<int>(std::min<int64_t>(threads_, tasks));
#pragma omp parallel num_threads(team)
  {
    t_inside_pool = true;
    for (;;) {
      const int64_t b = next.fetch_add(chunk, std::memory_order_relaxed);
      if (b >= n) break;
      fn(b, std::min(n, b + chunk));
    }
    t_inside_pool = false;
  }
#else
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    next_ = 0;
    ++generation_;
  }
  cv_.notify_all();
  t_inside_pool = true;
  for (;;) {
    int64_t b;
    {
      std::lock_guard<std::mutex> lk(mu_);
      b = next_;
      next_ += chunk;
    }
    if (b >= n) break;
    fn(b, std::min(n, b + chunk));
  }
  t_inside_pool = false;
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return active_ == 0; });
  job_ = nullptr;
#endif
}

void parallel_for(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (pool) pool->parallel_for(n, fn, grain);
  else if (n > 0) fn(0, n);
}

}  // namespace convfix
