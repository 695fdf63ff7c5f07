// libFuzzer target: the job queue's record decoding (queue/job_queue.h).
// A record read back from LMDB is untrusted bytes (a torn disk, a record of
// another version), so DecodeJob must reject anything malformed without
// crashing, and what it accepts must survive a round trip: EncodeJob of the
// decoded job decodes again to an equal job, and encodes to the same bytes
// it was decoded from (the encoding is canonical: nothing may follow, no
// field has two spellings).
//
// The SMS job's payload (queue/sms_job.h) is decoded from the same bytes, and
// from an accepted record's payload: no crash, and an accepted payload
// re-encodes to one that decodes to the same SMS job.
//
// Seed corpus: corpus/job_record/ holds records as EncodeJob writes them (an
// SMS job, a dead letter with an error, a deduplicated job, ...).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "queue/job_queue.h"
#include "sms/sms_job.h"

namespace {

using regd::queue::Job;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "job_record_fuzzer: %s\n", what);
  std::abort();
}

bool Equal(const Job& a, const Job& b) {
  return a.id == b.id && a.type == b.type && a.payload == b.payload && a.attempts == b.attempts &&
         a.run_at_ms == b.run_at_ms && a.lease_until_ms == b.lease_until_ms &&
         a.created_at_ms == b.created_at_ms && a.last_error == b.last_error &&
         a.dedup_key == b.dedup_key;
}

void CheckSmsPayload(std::string_view payload) {
  auto sms = regd::sms::DecodeSmsJob(payload);
  if (!sms.ok()) return;
  auto again = regd::sms::DecodeSmsJob(regd::sms::EncodeSmsJob(*sms));
  if (!again.ok()) Fail("EncodeSmsJob wrote a payload DecodeSmsJob rejects");
  if (again->mobile != sms->mobile || again->code != sms->code ||
      again->expires_at_ms != sms->expires_at_ms) {
    Fail("an SMS payload changed in a round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kId = 42;
  CheckSmsPayload(bytes);
  auto decoded = regd::queue::DecodeJob(kId, bytes);
  if (!decoded.ok()) return 0;
  CheckSmsPayload(decoded->payload);
  if (decoded->id != kId) Fail("decoded job has another id");
  std::string encoded = regd::queue::EncodeJob(*decoded);
  auto again = regd::queue::DecodeJob(kId, encoded);
  if (!again.ok()) Fail("EncodeJob wrote a record DecodeJob rejects");
  if (!Equal(*decoded, *again)) Fail("decode(encode(decode(r))) differs from decode(r)");
  if (encoded != bytes) Fail("an accepted record is not what EncodeJob writes for it");
  return 0;
}
