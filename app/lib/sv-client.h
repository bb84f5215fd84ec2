/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libservin-client: connects to servind on the system bus and finds, formats
 * and follows its objects. It never prints and never exits, so the desktop
 * app and the command-line client can both use it. */

#include "sv-client-call.h"
#include "sv-client-connection.h"
#include "sv-client-container.h"
#include "sv-client-error.h"
#include "sv-client-format.h"
#include "sv-client-image.h"
#include "sv-client-job.h"
#include "sv-client-lookup.h"
#include "sv-client-reference.h"
#include "sv-client-stream.h"
#include "sv-container-model.h"
#include "sv-dbus-error.h"
#include "sv-dbus-generated.h"
#include "sv-image-model.h"
