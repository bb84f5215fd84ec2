/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-helper-options.h"

#include "sv-dbus-error.h"

/* Read option @key of an a{sv} into @value, as g_variant_get() does with the
 * GVariant @type, leaving @value alone when the option is absent. A value of
 * another type is an InvalidArgument error naming @method, the option and
 * both types, so a caller's mistake is never silently ignored. */
gboolean
sv_helper_lookup_option (GVariant *options,
                         const char *method,
                         const char *key,
                         const char *type,
                         gpointer value,
                         GError **error)
{
  g_autoptr (GVariant) variant = g_variant_lookup_value (options, key, NULL);
  /* "&s" borrows the string from @options, which outlives this call. */
  const char *type_string = type[0] == '&' ? type + 1 : type;

  if (variant == NULL)
    return TRUE;
  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE (type_string)))
    {
      g_set_error (error, SV_DBUS_ERROR, SV_DBUS_ERROR_INVALID_ARGUMENT,
                   "invalid %s option %s: expected type %s, got type %s", method, key, type_string,
                   g_variant_get_type_string (variant));
      return FALSE;
    }
  g_variant_get (variant, type, value);
  return TRUE;
}
