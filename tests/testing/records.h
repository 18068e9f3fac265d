// Record types shared by tests.
#ifndef RECSTORE_TESTS_TESTING_RECORDS_H_
#define RECSTORE_TESTS_TESTING_RECORDS_H_

#include <cstdint>

#include "recstore/schema.h"

namespace recstore::testing {

struct Trade {
  uint64_t ts_ns;
  uint32_t symbol_id;
  uint32_t flags;
  double price;
  int64_t qty;
};
RECSTORE_RECORD(Trade, ts_ns, symbol_id, flags, price, qty);

// Same size as Trade, different field.
struct TradeRenamed {
  uint64_t ts_ns;
  uint32_t symbol;
  uint32_t flags;
  double price;
  int64_t qty;
};
RECSTORE_RECORD(TradeRenamed, ts_ns, symbol, flags, price, qty);

// Same field names as Trade, one type differs.
struct TradeFloatQty {
  uint64_t ts_ns;
  uint32_t symbol_id;
  uint32_t flags;
  double price;
  double qty;
};
RECSTORE_RECORD(TradeFloatQty, ts_ns, symbol_id, flags, price, qty);

enum class Side : uint8_t { kBuy = 1, kSell = 2 };

// Every supported field kind, 64 bytes.
struct Wide {
  int8_t i8;
  uint8_t u8;
  int16_t i16;
  uint16_t u16;
  bool flag;
  Side side;
  int32_t i32;
  uint32_t u32;
  float f32;
  int64_t i64;
  double f64;
  char name[8];
  uint16_t levels[4];
  int32_t grid[2][1];
};
RECSTORE_RECORD(Wide, i8, u8, i16, u16, flag, side, i32, u32, f32, i64, f64, name, levels, grid);

// Over-aligned: records must come back at 64-byte aligned addresses.
struct alignas(64) Aligned {
  uint64_t a;
  uint32_t b;
};
RECSTORE_RECORD(Aligned, a, b);

inline Trade MakeTrade(uint64_t i) {
  return Trade{.ts_ns = i * 1000 + 7,
               .symbol_id = static_cast<uint32_t>(i % 97),
               .flags = static_cast<uint32_t>(i),
               .price = 100.0 + static_cast<double>(i) / 8,
               .qty = -static_cast<int64_t>(i)};
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_RECORDS_H_
