/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *sv_client_reference_normalize (const char *text, GError **error);
char *sv_client_reference_familiar (const char *reference);
void sv_client_reference_split (const char *reference, char **repository, char **tag);

G_END_DECLS
