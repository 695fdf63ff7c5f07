// Report: what one benchmark run found. Rows for the printed table
// (workload, measure, value, target, met) and a JSON document with every
// figure, the machine and the settings, written to bench/results/latest.json.
//
// A missed target is reported, never an error: benchmarks measure, they do
// not assert.
//
// Thread-safety: one thread.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace regd::bench {

// 35012.4 -> "35,012"; decimals > 0 keeps that many after the point.
std::string Num(double v, int decimals = 0);
// Mebibytes from KiB, one decimal: "12.3 MiB".
std::string MiB(long kib);

class Report {
 public:
  struct Row {
    std::string workload;
    std::string measure;
    std::string value;
    std::string target;       // empty: no target
    std::optional<bool> met;  // nullopt: no target, or not measured
  };

  void Add(std::string workload, std::string measure, std::string value, std::string target = "",
           std::optional<bool> met = std::nullopt);
  // The JSON section for a workload ("static", "memory", ...), created empty.
  nlohmann::json& Section(const std::string& name) { return json_["workloads"][name]; }
  nlohmann::json& Root() { return json_; }

  // The table as Markdown (readable in a terminal, pasteable into a README).
  std::string Table() const;
  // Root() plus the table rows.
  nlohmann::json ToJson() const;

 private:
  std::vector<Row> rows_;
  nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace regd::bench
