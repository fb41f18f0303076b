// AMTHI and MKHI messages are little-endian (spec/mei.md §4, §5).
#pragma once

#include "firmware/core/byte_io.h"
#include "hostif/link/hbm_wire.h"

namespace mesim::clients {

using hbm::Bytes;
using hbm::ByteView;
using ByteWriter = core::ByteWriter<core::order::little>;
using ByteReader = core::ByteReader<core::order::little>;

}  // namespace mesim::clients
