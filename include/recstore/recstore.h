// recstore: typed, append-only record logs in memory-mapped segment files.
//
// Include this one header. See store.h for opening a store, log.h for the handles, schema.h
// for declaring record types, options.h for options and reports, checkpoint.h for
// checkpoints, cursor.h for durable consumer cursors, and mapped_vector.h / mapped_struct.h
// for the mutable mapped containers.
#ifndef RECSTORE_RECSTORE_H_
#define RECSTORE_RECSTORE_H_

#include "recstore/checkpoint.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/cursor.h"
#include "recstore/log.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "recstore/options.h"
#include "recstore/schema.h"
#include "recstore/status_macros.h"
#include "recstore/store.h"

#endif  // RECSTORE_RECSTORE_H_
