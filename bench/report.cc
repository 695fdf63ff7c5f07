#include "bench/report.h"

#include <algorithm>
#include <cmath>

namespace regd::bench {

std::string Num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, std::fabs(v));
  std::string s(buf);
  size_t point = s.find('.');
  size_t int_end = point == std::string::npos ? s.size() : point;
  for (ptrdiff_t i = static_cast<ptrdiff_t>(int_end) - 3; i > 0; i -= 3) s.insert(i, ",");
  return (v < 0 && std::fabs(v) >= 0.5 * std::pow(10.0, -decimals) ? "-" : "") + s;
}

std::string MiB(long kib) { return kib < 0 ? "n/a" : Num(kib / 1024.0, 1) + " MiB"; }

void Report::Add(std::string workload, std::string measure, std::string value, std::string target,
                 std::optional<bool> met) {
  rows_.push_back(
      Row{std::move(workload), std::move(measure), std::move(value), std::move(target), met});
}

std::string Report::Table() const {
  const std::vector<std::string> head = {"workload", "measure", "value", "target", "met"};
  std::vector<std::vector<std::string>> cells;
  for (const Row& r : rows_) {
    cells.push_back({r.workload, r.measure, r.value, r.target,
                     r.met.has_value() ? (*r.met ? "yes" : "NO") : ""});
  }
  std::vector<size_t> width(head.size());
  // Width in characters, counting a multi-byte UTF-8 sequence as one.
  auto len = [](const std::string& s) {
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  };
  for (size_t i = 0; i < head.size(); ++i) width[i] = len(head[i]);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], len(row[i]));
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string out = "|";
    for (size_t i = 0; i < row.size(); ++i) {
      bool right = i == 2;  // values line up on the right
      std::string pad(width[i] - len(row[i]), ' ');
      out += " " + (right ? pad + row[i] : row[i] + pad) + " |";
    }
    return out + "\n";
  };
  std::string out = line(head);
  out += "|";
  for (size_t i = 0; i < head.size(); ++i) {
    out += std::string(width[i] + 1, '-') + (i == 2 ? ":|" : "-|");
  }
  out += "\n";
  for (const auto& row : cells) out += line(row);
  return out;
}

nlohmann::json Report::ToJson() const {
  nlohmann::json j = json_;
  j["table"] = nlohmann::json::array();
  for (const Row& r : rows_) {
    nlohmann::json row = {
        {"workload", r.workload}, {"measure", r.measure}, {"value", r.value}, {"target", r.target}};
    row["met"] = r.met.has_value() ? nlohmann::json(*r.met) : nlohmann::json(nullptr);
    j["table"].push_back(row);
  }
  return j;
}

}  // namespace regd::bench
