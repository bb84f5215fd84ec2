/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

#include "sv-client.h"

G_BEGIN_DECLS

#define SV_TYPE_CONTAINER_DETAILS (sv_container_details_get_type ())
G_DECLARE_FINAL_TYPE (SvContainerDetails, sv_container_details, SV, CONTAINER_DETAILS, GtkWidget)

void sv_container_details_set_container (SvContainerDetails *self, SvClientContainer *container,
                                         gboolean logs);

G_END_DECLS
