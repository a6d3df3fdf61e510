// convfix_bench — convfix's executor against ONNX Runtime on the same models,
// inputs and thread counts, in one run.
//
//   convfix_bench --models-dir BUILD/oracle-models [--models a,b] [--batches 1,8]
//                 [--threads 1,2] [--runs N] [--warmup N] [--min-time S] [--settle-ms MS]
//                 [--no-ort] [--memory MODEL:BATCH | --no-memory] [--json FILE]
//
// For each model (folder with model.onnx and input.npy, as written by
// tools/gen_torchvision.py), batch and thread count: convfix runs through
// the library (load, Executor with N threads) and ONNX Runtime runs in a
// child process (tools/ort_run.js --serve, intraOpNumThreads = N, same input
// file). Runs alternate: one convfix run, one ORT run, ... (--warmup pairs
// first, then at least --runs pairs and at least --min-time seconds), so a
// shared machine's changing load hits both alike. Prints a table of images/s
// (from each side's median run), the ratio convfix/ORT of the medians and of
// the best runs. Then the peak memory (max RSS of the child, from wait4) of
// `convfix run` and of ort_run.js on one model and batch.
//
// CONVFIX_PROFILE=1 adds, per configuration, a per-op profile of one extra
// convfix run: time per op type (sum over its nodes), share of the run,
// node count, and the slowest nodes. The observer measures the time between
// consecutive node completions, so each node's share includes the executor's
// bookkeeping for it.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "convfix/executor.h"
#include "convfix/model_io.h"
#include "convfix/npy.h"

namespace fs = std::filesystem;
using convfix::Tensor;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string models_dir;
  std::vector<std::string> models{"mobilenet_v2", "resnet101", "inception_v3"};
  std::vector<int> batches{1, 8};
  std::vector<int> threads{1, 2};
  int runs = 5;
  int warmup = 2;
  int settle_ms = 100;  // pause before every timed or warm-up run
  double min_time = 3.0;
  bool ort = true;
  std::string memory = "inception_v3:8";
  std::string json_out;
  bool profile = false;
};

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "convfix_bench: " << msg << "\n";
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) r.push_back(item);
  return r;
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> r;
  for (const auto& x : split(s, ',')) r.push_back(std::stoi(x));
  return r;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(k + " needs a value");
      return argv[++i];
    };
    if (k == "--models-dir") o.models_dir = next();
    else if (k == "--models") o.models = split(next(), ',');
    else if (k == "--batches") o.batches = split_ints(next());
    else if (k == "--threads") o.threads = split_ints(next());
    else if (k == "--runs") o.runs = std::stoi(next());
    else if (k == "--warmup") o.warmup = std::stoi(next());
    else if (k == "--min-time") o.min_time = std::stod(next());
    else if (k == "--settle-ms") o.settle_ms = std::stoi(next());
    else if (k == "--no-ort") o.ort = false;
    else if (k == "--memory") o.memory = next();
    else if (k == "--no-memory") o.memory.clear();
    else if (k == "--json") o.json_out = next();
    else if (k == "--help" || k == "-h") {
      std::cout << "usage: convfix_bench --models-dir DIR [--models a,b] [--batches 1,8] [--threads 1,2]\n"
                   "                     [--runs N] [--warmup N] [--min-time S] [--settle-ms MS] [--no-ort]\n"
                   "                     [--memory MODEL:BATCH | --no-memory] [--json FILE]\n"
                   "env CONVFIX_PROFILE=1: per-op profile of convfix for each configuration\n";
      std::exit(0);
    } else die("unknown argument " + k);
  }
  if (o.models_dir.empty()) die("give --models-dir (the folder written by tools/gen_torchvision.py)");
  const char* p = std::getenv("CONVFIX_PROFILE");
  o.profile = p && std::string(p) != "0" && std::string(p) != "";
  return o;
}

// First `batch` images of input.npy (repeated when it holds fewer).
Tensor make_batch(const Tensor& all, int batch) {
  std::vector<int64_t> dims = all.dims();
  const int64_t have = dims[0];
  dims[0] = batch;
  Tensor t(all.dtype(), dims);
  const size_t per = all.nbytes() / static_cast<size_t>(have);
  for (int b = 0; b < batch; ++b)
    std::memcpy(static_cast<uint8_t*>(t.raw()) + per * b,
                static_cast<const uint8_t*>(all.raw()) + per * (b % have), per);
  return t;
}

struct ChildResult {
  int exit_code = -1;
  std::string out;
  long maxrss_kb = 0;
};

// Runs argv as a child process, captures stdout, and reads its peak RSS.
ChildResult run_child(const std::vector<std::string>& args) {
  ChildResult r;
  int fd[2];
  if (pipe(fd) != 0) die("pipe failed");
  pid_t pid = fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    std::vector<char*> av;
    for (const auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    execvp(av[0], av.data());
    _exit(127);
  }
  close(fd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  close(fd[0]);
  int status = 0;
  struct rusage ru {};
  if (wait4(pid, &status, 0, &ru) < 0) die("wait4 failed");
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.maxrss_kb = ru.ru_maxrss;
  return r;
}

// ONNX Runtime in a child process (ort_run.js --serve): one run per request.
class OrtServer {
 public:
  bool start(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return false;
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[0]); close(in[1]); close(out[0]); close(out[1]);
      std::vector<char*> av;
      for (const auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
      av.push_back(nullptr);
      execvp(av[0], av.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    return to_ && from_ && read_line() == "ready";
  }
  // Milliseconds of one run, or a negative value when the child failed.
  double run() {
    if (!to_ || std::fputs("run\n", to_) < 0 || std::fflush(to_) != 0) return -1;
    const std::string l = read_line();
    return l.empty() ? -1 : std::atof(l.c_str());
  }
  ~OrtServer() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }

 private:
  std::string read_line() {
    char buf[256];
    if (!from_ || !std::fgets(buf, sizeof buf, from_)) return "";
    std::string l(buf);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    return l;
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// Times node completions: duration of node i = completion(i) - completion(i-1).
class Profiler : public convfix::Observer {
 public:
  void start() {
    last_ = Clock::now();
    last_node_ = nullptr;
  }
  // Timing only: not wanting any value keeps the executor's fusion on.
  bool wants(const convfix::Node&) override { return false; }
  void on_output(const convfix::Node&, size_t, const std::string&, const Tensor&) override {}
  void on_node_done(const convfix::Node& n) override {
    const auto now = Clock::now();
    if (&n == last_node_) return;
    last_node_ = &n;
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    auto& e = by_op[n.op_type];
    e.first += ms;
    e.second += 1;
    nodes.emplace_back(ms, n.name + " (" + n.op_type + ")");
  }
  std::map<std::string, std::pair<double, int>> by_op;
  std::vector<std::pair<double, std::string>> nodes;

 private:
  Clock::time_point last_;
  const convfix::Node* last_node_ = nullptr;
};

std::string fixed2(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Row {
  std::string model;
  int batch = 0, threads = 0;
  double cf_ms = 0, ort_ms = 0, cf_best = 0, ort_best = 0;
  int cf_runs = 0, ort_runs = 0;
  std::string error;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);  // a dead ORT child must not kill the benchmark
  const std::string src = CONVFIX_SOURCE_DIR;
  const std::string ort_script = src + "/tools/ort_run.js";
  const bool have_ort = o.ort && fs::exists(src + "/node_modules/onnxruntime-node");
  if (o.ort && !have_ort)
    std::cerr << "convfix_bench: " << src << "/node_modules/onnxruntime-node is missing; ORT columns left empty\n";
  const fs::path tmpdir = fs::temp_directory_path() / ("convfix_bench." + std::to_string(getpid()));
  fs::create_directories(tmpdir);

  // Peak memory first, while this process is small: a child's ru_maxrss
  // starts from the high-water mark of the process image it was forked
  // from (Linux keeps it across exec), so forking from a process that holds
  // models would report this process's size instead of the child's.
  std::ostringstream mem;
  nlohmann::json jmem = nullptr;
  if (!o.memory.empty()) {
    const auto parts = split(o.memory, ':');
    if (parts.size() != 2) die("--memory expects MODEL:BATCH");
    const std::string m = parts[0];
    const int b = std::stoi(parts[1]);
    const fs::path dir = fs::path(o.models_dir) / m;
    auto all = convfix::read_npy((dir / "input.npy").string());
    if (!all.ok()) die(all.status().message());
    const std::string xfile = (tmpdir / ("mem_" + m + ".npy")).string();
    if (auto st = convfix::write_npy(make_batch(all.value(), b), xfile); !st.ok()) die(st.message());
    const std::string model = (dir / "model.onnx").string();
    struct rusage self {};
    getrusage(RUSAGE_SELF, &self);
    auto cf = run_child({CONVFIX_BIN, "run", model, "--input", xfile, "--threads", "1"});
    mem << "\npeak memory (max RSS), " << m << " batch " << b << ", 1 thread (floor: this process's "
        << self.ru_maxrss / 1024 << " MiB at fork):\n";
    mem << "  convfix run:  "
        << (cf.exit_code == 0 ? std::to_string(cf.maxrss_kb / 1024) + " MiB"
                              : "failed (exit " + std::to_string(cf.exit_code) + ")")
        << "\n";
    jmem = {{"model", m}, {"batch", b}, {"convfix_maxrss_kb", cf.maxrss_kb}, {"convfix_exit", cf.exit_code}};
    if (have_ort) {
      auto r = run_child({"node", ort_script, model, "--input", xfile, "--threads", "1"});
      mem << "  ONNX Runtime (node ort_run.js): "
          << (r.exit_code == 0 ? std::to_string(r.maxrss_kb / 1024) + " MiB"
                               : "failed (exit " + std::to_string(r.exit_code) + ")")
          << "\n";
      jmem["ort_maxrss_kb"] = r.maxrss_kb;
    }
  }
  const std::string mem_report = mem.str();

  std::vector<Row> rows;
  nlohmann::json jprof = nlohmann::json::object();
  for (const auto& m : o.models) {
    const fs::path dir = fs::path(o.models_dir) / m;
    const std::string model = (dir / "model.onnx").string();
    auto g = convfix::load_model(model);
    if (!g.ok()) die(g.status().message());
    auto all = convfix::read_npy((dir / "input.npy").string());
    if (!all.ok()) die(all.status().message());
    auto graph = std::make_shared<convfix::Graph>(std::move(g).value());
    const std::string in_name = graph->inputs.at(0).name;
    for (int b : o.batches) {
      Tensor x = make_batch(all.value(), b);
      const std::string xfile = (tmpdir / (m + "_b" + std::to_string(b) + ".npy")).string();
      if (auto st = convfix::write_npy(x, xfile); !st.ok()) die(st.message());
      for (int t : o.threads) {
        Row row;
        row.model = m;
        row.batch = b;
        row.threads = t;
        std::cerr << "[bench] " << m << " batch " << b << " threads " << t << " ..." << std::flush;
        auto ex = convfix::Executor::create(graph, convfix::ExecOptions{t, true});
        if (!ex.ok()) row.error = ex.status().message();
        std::unique_ptr<OrtServer> ort;
        if (have_ort) {
          ort = std::make_unique<OrtServer>();
          if (!ort->start({"node", ort_script, model, "--input", xfile, "--threads", std::to_string(t), "--serve"})) {
            std::cerr << "\nconvfix_bench: ort_run.js --serve did not start\n";
            ort.reset();
          }
        }
        convfix::TensorMap feeds{{in_name, x}};
        std::vector<double> cf_ms, ort_ms;
        // One step: a convfix run (while it works) and an ORT run (while it works).
        // Each run starts after a pause of --settle-ms: both runtimes keep their
        // idle threads spinning for a while after a run (ORT's pool by default,
        // OpenMP when OMP_WAIT_POLICY is active), which would otherwise steal a
        // core from the other side's next run on a 2-core machine.
        const auto settle = std::chrono::milliseconds(o.settle_ms);
        auto step = [&](bool timed) {
          std::this_thread::sleep_for(settle);
          if (row.error.empty()) {
            const auto t0 = Clock::now();
            auto r = (*ex)->run(feeds);
            const double d = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            if (!r.ok()) row.error = r.status().message();
            else if (timed) cf_ms.push_back(d);
          }
          if (ort) {
            std::this_thread::sleep_for(settle);
            const double d = ort->run();
            if (d < 0) {
              std::cerr << "\nconvfix_bench: ort_run.js failed\n";
              ort.reset();
            } else if (timed) {
              ort_ms.push_back(d);
            }
          }
        };
        for (int i = 0; i < o.warmup; ++i) step(false);
        const auto start = Clock::now();
        for (int i = 0; (row.error.empty() || ort) &&
                        (i < o.runs || std::chrono::duration<double>(Clock::now() - start).count() < o.min_time);
             ++i)
          step(true);
        if (row.error.empty() && !cf_ms.empty()) {
          row.cf_ms = median(cf_ms);
          row.cf_best = *std::min_element(cf_ms.begin(), cf_ms.end());
          row.cf_runs = static_cast<int>(cf_ms.size());
        }
        if (!ort_ms.empty()) {
          row.ort_ms = median(ort_ms);
          row.ort_best = *std::min_element(ort_ms.begin(), ort_ms.end());
          row.ort_runs = static_cast<int>(ort_ms.size());
        }
        ort.reset();
        if (row.error.empty() && o.profile) {
          Profiler p;
          convfix::RunOptions ro;
          ro.observer = &p;
          p.start();
          const auto t0 = Clock::now();
          auto r = (*ex)->run(feeds, ro);
          const double total = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (r.ok()) {
            std::vector<std::pair<double, std::string>> ops;
            for (const auto& [op, e] : p.by_op) ops.emplace_back(e.first, op);
            std::sort(ops.rbegin(), ops.rend());
            std::sort(p.nodes.rbegin(), p.nodes.rend());
            std::ostringstream os;
            os << "\nprofile " << m << " batch " << b << " threads " << t << ": " << fixed2(total) << " ms\n";
            nlohmann::json jo = nlohmann::json::array();
            for (const auto& [tm, op] : ops) {
              char line[160];
              std::snprintf(line, sizeof line, "  %-24s %9.2f ms %5.1f%%  %4d nodes\n", op.c_str(), tm,
                            100.0 * tm / total, p.by_op[op].second);
              os << line;
              jo.push_back({{"op", op}, {"ms", tm}, {"nodes", p.by_op[op].second}});
            }
            os << "  slowest nodes:\n";
            for (size_t i = 0; i < std::min<size_t>(8, p.nodes.size()); ++i) {
              char line[256];
              std::snprintf(line, sizeof line, "    %9.2f ms  %s\n", p.nodes[i].first, p.nodes[i].second.c_str());
              os << line;
            }
            std::cout << os.str();
            jprof[m + "/b" + std::to_string(b) + "/t" + std::to_string(t)] = {{"total_ms", total}, {"ops", jo}};
          }
        }
        std::cerr << " done\n";
        rows.push_back(row);
      }
    }
  }

  std::cout << "\n| model | batch | threads | convfix img/s | ORT img/s | convfix/ORT | convfix/ORT (best runs) | "
               "runs |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  nlohmann::json jrows = nlohmann::json::array();
  for (const auto& r : rows) {
    const double cf = r.cf_ms > 0 ? 1000.0 * r.batch / r.cf_ms : 0;
    const double ort = r.ort_ms > 0 ? 1000.0 * r.batch / r.ort_ms : 0;
    std::cout << "| " << r.model << " | " << r.batch << " | " << r.threads << " | "
              << (r.error.empty() ? fixed2(cf) : "error") << " | " << (ort > 0 ? fixed2(ort) : "-") << " | "
              << (cf > 0 && ort > 0 ? fixed2(cf / ort) : "-") << " | "
              << (r.cf_best > 0 && r.ort_best > 0 ? fixed2(r.ort_best / r.cf_best) : "-") << " | " << r.cf_runs
              << " |\n";
    jrows.push_back({{"model", r.model}, {"batch", r.batch}, {"threads", r.threads},
                     {"convfix_img_s", cf}, {"ort_img_s", ort}, {"convfix_runs", r.cf_runs},
                     {"convfix_best_ms", r.cf_best}, {"ort_best_ms", r.ort_best},
                     {"ort_runs", r.ort_runs}, {"error", r.error}});
  }
  for (const auto& r : rows)
    if (!r.error.empty()) std::cout << "error " << r.model << " batch " << r.batch << ": " << r.error << "\n";

  std::cout << mem_report;
  if (!o.json_out.empty()) {
    std::ofstream f(o.json_out);
    f << nlohmann::json{{"rows", jrows}, {"memory", jmem}, {"profile", jprof}}.dump(1) << "\n";
  }
  std::error_code ec;
  fs::remove_all(tmpdir, ec);
  return 0;
}
