/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds SvContainerModel and SvImageModel on servind's objects and prints
 * one line per event, for test_models.py to read:
 *
 *   container added ID STATE       image added ID TAG,TAG
 *   container removed ID           image removed ID
 *   container notify ID PROPERTY VALUE
 *   image notify ID PROPERTY VALUE
 *   ready containers=N images=N    after the first listing
 *   name-owner NAME|none           when servind leaves or comes back
 *   error: TEXT                    when a model breaks its contract
 *
 * After every items-changed it compares its own copy of each model, updated
 * from the signal's position, removed and added counts, with the model, so a
 * wrong position shows up as an error line. --async connects with
 * sv_client_connect_async(). It runs until SIGTERM or SIGINT. */
#include <glib-unix.h>
#include <stdio.h>

#include "sv-client.h"

typedef struct
{
  const char *kind;
  GListModel *model;
  /* The items as the items-changed signals so far describe them. */
  GPtrArray *mirror;
} Watch;

static GMainLoop *loop;
static int exit_status;

static const char *
item_id (GObject *item)
{
  if (SV_IS_CLIENT_CONTAINER (item))
    return sv_client_container_get_id (SV_CLIENT_CONTAINER (item));
  return sv_client_image_get_id (SV_CLIENT_IMAGE (item));
}

static char *
join_strv (const char *const *strv)
{
  if (strv == NULL || strv[0] == NULL)
    return g_strdup ("-");
  return g_strjoinv (",", (char **)strv);
}

static char *
value_to_text (const GValue *value)
{
  if (G_VALUE_HOLDS (value, G_TYPE_STRV))
    return join_strv (g_value_get_boxed (value));
  if (G_VALUE_HOLDS_STRING (value))
    return g_strdup (g_value_get_string (value) != NULL ? g_value_get_string (value) : "");
  if (G_VALUE_HOLDS_INT (value))
    return g_strdup_printf ("%d", g_value_get_int (value));
  if (G_VALUE_HOLDS_UINT64 (value))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_value_get_uint64 (value));
  if (G_VALUE_HOLDS_BOOLEAN (value))
    return g_strdup (g_value_get_boolean (value) ? "true" : "false");
  return g_strdup ("?");
}

static void
print_item (Watch *watch, const char *event, GObject *item)
{
  if (SV_IS_CLIENT_CONTAINER (item))
    printf ("%s %s %s %s\n", watch->kind, event, item_id (item),
            sv_client_container_get_state (SV_CLIENT_CONTAINER (item)));
  else
    {
      g_autofree char *tags = join_strv (sv_client_image_get_display_tags (SV_CLIENT_IMAGE (item)));

      printf ("%s %s %s %s\n", watch->kind, event, item_id (item), tags);
    }
}

static void
on_item_notify_cb (GObject *item, GParamSpec *pspec, Watch *watch)
{
  g_auto (GValue) value = G_VALUE_INIT;
  g_autofree char *text = NULL;
  guint position;

  if (!g_ptr_array_find (watch->mirror, item, &position))
    {
      printf ("error: %s %s notified %s but is not in the model\n", watch->kind, item_id (item),
              pspec->name);
      exit_status = 1;
    }

  g_value_init (&value, pspec->value_type);
  g_object_get_property (item, pspec->name, &value);
  text = value_to_text (&value);
  printf ("%s notify %s %s %s\n", watch->kind, item_id (item), pspec->name, text);
}

static void
mirror_add (Watch *watch, guint position, GObject *item)
{
  g_ptr_array_insert (watch->mirror, position, g_object_ref (item));
  g_signal_connect (item, "notify", G_CALLBACK (on_item_notify_cb), watch);
  print_item (watch, "added", item);
}

static void
check_mirror (Watch *watch)
{
  guint n_items = g_list_model_get_n_items (watch->model);

  if (n_items != watch->mirror->len)
    {
      printf ("error: %s model has %u items, its signals describe %u\n", watch->kind, n_items,
              watch->mirror->len);
      exit_status = 1;
      return;
    }
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (watch->model, i);

      if (item != g_ptr_array_index (watch->mirror, i))
        {
          printf ("error: %s model item %u differs from what its signals describe\n", watch->kind,
                  i);
          exit_status = 1;
        }
    }
}

static void
on_items_changed_cb (GListModel *model, guint position, guint removed, guint added, Watch *watch)
{
  for (guint i = 0; i < removed; i++)
    {
      GObject *item = g_ptr_array_steal_index (watch->mirror, position);

      g_signal_handlers_disconnect_by_func (item, on_item_notify_cb, watch);
      print_item (watch, "removed", item);
      g_object_unref (item);
    }
  for (guint i = 0; i < added; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (model, position + i);

      mirror_add (watch, position + i, item);
    }
  check_mirror (watch);
}

static Watch *
watch_model (const char *kind, GListModel *model)
{
  Watch *watch = g_new0 (Watch, 1);
  guint n_items = g_list_model_get_n_items (model);

  watch->kind = kind;
  watch->model = model;
  watch->mirror = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (model, i);

      if (!G_TYPE_CHECK_INSTANCE_TYPE (item, g_list_model_get_item_type (model)))
        {
          printf ("error: %s model item %u has type %s\n", kind, i, G_OBJECT_TYPE_NAME (item));
          exit_status = 1;
        }
      mirror_add (watch, i, item);
    }
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed_cb), watch);
  return watch;
}

static void
on_name_owner_cb (GDBusObjectManagerClient *objects, GParamSpec *pspec, gpointer user_data)
{
  g_autofree char *owner = g_dbus_object_manager_client_get_name_owner (objects);

  printf ("name-owner %s\n", owner != NULL ? owner : "none");
}

static void
start_watching (GDBusObjectManager *objects)
{
  SvContainerModel *containers = sv_container_model_new (objects);
  SvImageModel *images = sv_image_model_new (objects);
  Watch *container_watch = watch_model ("container", G_LIST_MODEL (containers));
  Watch *image_watch = watch_model ("image", G_LIST_MODEL (images));

  /* Lookups must find each listed item. */
  for (guint i = 0; i < container_watch->mirror->len; i++)
    {
      GObject *item = g_ptr_array_index (container_watch->mirror, i);

      if (sv_container_model_lookup (containers, item_id (item)) != (gpointer)item)
        printf ("error: container lookup of %s failed\n", item_id (item));
    }
  for (guint i = 0; i < image_watch->mirror->len; i++)
    {
      GObject *item = g_ptr_array_index (image_watch->mirror, i);

      if (sv_image_model_lookup (images, item_id (item)) != (gpointer)item)
        printf ("error: image lookup of %s failed\n", item_id (item));
    }

  g_signal_connect (objects, "notify::name-owner", G_CALLBACK (on_name_owner_cb), NULL);
  printf ("ready containers=%u images=%u\n", container_watch->mirror->len,
          image_watch->mirror->len);
}

static void
on_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GDBusObjectManager *objects = sv_client_connect_finish (result, &error);

  if (objects == NULL)
    {
      fprintf (stderr, "sv-model-check: %s\n", error->message);
      exit_status = 2;
      g_main_loop_quit (loop);
      return;
    }
  start_watching (objects);
}

static gboolean
on_signal_cb (gpointer user_data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gboolean use_async = argc > 1 && g_str_equal (argv[1], "--async");

  setvbuf (stdout, NULL, _IOLBF, 0);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal_cb, NULL);
  g_unix_signal_add (SIGINT, on_signal_cb, NULL);

  if (use_async)
    sv_client_connect_async (NULL, on_connected_cb, NULL);
  else
    {
      g_autoptr (GError) error = NULL;
      GDBusObjectManager *objects = sv_client_connect (NULL, &error);

      if (objects == NULL)
        {
          fprintf (stderr, "sv-model-check: %s\n", error->message);
          return 2;
        }
      start_watching (objects);
    }

  g_main_loop_run (loop);
  return exit_status;
}
