/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-engine-error.h"

G_DEFINE_QUARK (sv-engine-error-quark, sv_engine_error)
