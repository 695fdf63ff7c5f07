#include "sms/mobile_mask.h"

namespace regd::sms {

std::string MaskMobile(std::string_view mobile) {
  if (mobile.size() <= 7) return std::string(mobile.size(), '*');
  std::string out(mobile);
  for (size_t i = 3; i + 4 < out.size(); ++i) out[i] = '*';
  return out;
}

}  // namespace regd::sms
