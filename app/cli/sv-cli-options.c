/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <errno.h>
#include <string.h>

/* A parser with docker's (pflag's) rules: "--name value", "--name=value",
 * "-n value", "-nvalue", "-n=value", grouped booleans ("-ai"), "--" to end
 * the options, and -h/--help for every command. */

static const SvCliOption help_option
    = { "help", 'h', SV_CLI_OPTION_BOOL, NULL, NULL, "Print usage" };

static void
print_usage_line (const SvCliInvocation *invocation, FILE *out)
{
  fprintf (out, "Usage:  %s %s\n", invocation->path, invocation->command->usage);
}

/* Prints "servin: MESSAGE" and a pointer at --help, and returns docker's
 * exit status for command line errors. */
int
sv_cli_usage_error (const SvCliInvocation *invocation, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fprintf (stderr, "servin: %s\nSee '%s --help'.\n", message, invocation->path);
  return SV_CLI_EXIT_USAGE;
}

static char *
describe_option (const SvCliOption *option)
{
  if (option->short_name != 0)
    return g_strdup_printf ("-%c, --%s", option->short_name, option->long_name);
  return g_strdup_printf ("    --%s", option->long_name);
}

void
sv_cli_print_help (const SvCliInvocation *invocation, const SvCliOption *options)
{
  printf ("\n");
  print_usage_line (invocation, stdout);
  printf ("\n%s\n", invocation->command->summary);
  printf ("\nOptions:\n");

  for (const SvCliOption *o = options; o != NULL && o->long_name != NULL; o++)
    {
      g_autofree char *flag = describe_option (o);
      g_autofree char *left
          = o->arg_name ? g_strdup_printf ("%s %s", flag, o->arg_name) : g_strdup (flag);

      printf ("  %-26s %s\n", left, o->description);
    }
  printf ("  %-26s %s\n", "-h, --help", help_option.description);
}

static const SvCliOption *
find_long (const SvCliOption *options, const char *name, gsize length)
{
  for (const SvCliOption *o = options; o != NULL && o->long_name != NULL; o++)
    {
      if (strlen (o->long_name) == length && strncmp (o->long_name, name, length) == 0)
        return o;
    }
  if (length == strlen ("help") && strncmp (name, "help", length) == 0)
    return &help_option;
  return NULL;
}

static const SvCliOption *
find_short (const SvCliOption *options, char name)
{
  for (const SvCliOption *o = options; o != NULL && o->long_name != NULL; o++)
    {
      if (o->short_name == name)
        return o;
    }
  return name == 'h' ? &help_option : NULL;
}

static gboolean
parse_bool (const char *text, gboolean *value)
{
  if (g_strcmp0 (text, "true") == 0 || g_strcmp0 (text, "1") == 0)
    *value = TRUE;
  else if (g_strcmp0 (text, "false") == 0 || g_strcmp0 (text, "0") == 0)
    *value = FALSE;
  else
    return FALSE;
  return TRUE;
}

/* Stores @text in @option's variable. Returns FALSE with a message in
 * @problem when @text does not fit the option's type. */
static gboolean
set_value (const SvCliOption *option, const char *text, char **problem)
{
  g_autofree char *flag = NULL;

  switch (option->type)
    {
    case SV_CLI_OPTION_BOOL:
      if (parse_bool (text, option->value))
        return TRUE;
      flag = describe_option (option);
      *problem = g_strdup_printf ("invalid argument \"%s\" for \"%s\" flag: expected true or false",
                                  text, g_strstrip (flag));
      return FALSE;

    case SV_CLI_OPTION_STRING:
      g_free (*(char **)option->value);
      *(char **)option->value = g_strdup (text);
      return TRUE;

    case SV_CLI_OPTION_LIST:
      {
        GPtrArray **list = option->value;

        if (*list == NULL)
          *list = g_ptr_array_new_with_free_func (g_free);
        g_ptr_array_add (*list, g_strdup (text));
        return TRUE;
      }

    case SV_CLI_OPTION_INT:
      {
        char *end = NULL;
        gint64 number;

        errno = 0;
        number = g_ascii_strtoll (text, &end, 10);
        if (*text != '\0' && *end == '\0' && errno == 0 && number >= G_MININT && number <= G_MAXINT)
          {
            *(int *)option->value = (int)number;
            return TRUE;
          }
        flag = describe_option (option);
        *problem = g_strdup_printf ("invalid argument \"%s\" for \"%s\" flag: expected an integer",
                                    text, g_strstrip (flag));
        return FALSE;
      }
    }
  g_assert_not_reached ();
}

typedef struct
{
  const SvCliInvocation *invocation;
  const SvCliOption *options;
  int index;
  gboolean help;
  char *problem;
} Parser;

/* Handles argv[index], a "--name" or "--name=value" option. */
static gboolean
parse_long (Parser *parser)
{
  const char *arg = parser->invocation->argv[parser->index] + 2;
  const char *equals = strchr (arg, '=');
  gsize length = equals ? (gsize)(equals - arg) : strlen (arg);
  const SvCliOption *option = find_long (parser->options, arg, length);
  const char *value = equals ? equals + 1 : NULL;

  if (option == NULL)
    {
      parser->problem = g_strdup_printf ("unknown flag: --%.*s", (int)length, arg);
      return FALSE;
    }
  if (option == &help_option)
    {
      parser->help = TRUE;
      return TRUE;
    }

  if (option->type == SV_CLI_OPTION_BOOL && value == NULL)
    value = "true";
  if (value == NULL)
    {
      if (parser->index + 1 >= parser->invocation->argc)
        {
          parser->problem = g_strdup_printf ("flag needs an argument: --%s", option->long_name);
          return FALSE;
        }
      value = parser->invocation->argv[++parser->index];
    }
  return set_value (option, value, &parser->problem);
}

/* Handles argv[index], a group of short options such as "-ai" or "-eK=V". */
static gboolean
parse_short (Parser *parser)
{
  const char *arg = parser->invocation->argv[parser->index];

  for (const char *p = arg + 1; *p != '\0'; p++)
    {
      const SvCliOption *option = find_short (parser->options, *p);
      const char *value;

      if (option == NULL)
        {
          parser->problem = g_strdup_printf ("unknown shorthand flag: '%c' in %s", *p, arg);
          return FALSE;
        }
      if (option == &help_option)
        {
          parser->help = TRUE;
          continue;
        }

      if (option->type == SV_CLI_OPTION_BOOL)
        {
          if (p[1] == '=')
            return set_value (option, p + 2, &parser->problem);
          *(gboolean *)option->value = TRUE;
          continue;
        }

      /* The rest of the group is the value: "-eK=V", or "-e=K=V" as pflag allows. */
      if (p[1] != '\0')
        value = p[1] == '=' ? p + 2 : p + 1;
      else if (parser->index + 1 < parser->invocation->argc)
        value = parser->invocation->argv[++parser->index];
      else
        {
          parser->problem = g_strdup_printf ("flag needs an argument: '%c' in %s", *p, arg);
          return FALSE;
        }
      return set_value (option, value, &parser->problem);
    }
  return TRUE;
}

static int
report_arg_count (const SvCliInvocation *invocation, guint min_args, int max_args, guint given,
                  const char *arg_names)
{
  g_autofree char *which = NULL;

  if (given < min_args)
    {
      which = arg_names ? g_strdup_printf (" (%s)", arg_names) : g_strdup ("");
      if (min_args == 1 && max_args == 1)
        sv_cli_usage_error (invocation, "\"%s\" requires exactly 1 argument%s.", invocation->path,
                            which);
      else
        sv_cli_usage_error (invocation, "\"%s\" requires at least %u argument%s%s.",
                            invocation->path, min_args, min_args == 1 ? "" : "s", which);
    }
  else if (max_args == 0)
    sv_cli_usage_error (invocation, "\"%s\" accepts no arguments, but was given \"%s\".",
                        invocation->path, invocation->argv[invocation->argc - 1]);
  else
    sv_cli_usage_error (invocation, "\"%s\" accepts at most %d argument%s, but was given %u.",
                        invocation->path, max_args, max_args == 1 ? "" : "s", given);

  fprintf (stderr, "\n");
  print_usage_line (invocation, stderr);
  fprintf (stderr, "\n%s\n", invocation->command->summary);
  return SV_CLI_EXIT_USAGE;
}

/**
 * sv_cli_parse:
 * @invocation: the command and its arguments
 * @options: the command's options, ending with an entry whose long_name is NULL
 * @flags: how options and arguments mix
 * @min_args: the fewest arguments the command takes
 * @max_args: the most arguments, or -1 for no limit
 * @arg_names: (nullable): the arguments' names for messages, as "IMAGE"
 * @exit_code: (out): the status to exit with when this returns %NULL
 *
 * Parses the options into their variables and checks the number of the
 * other arguments. Prints the help and returns %NULL with @exit_code 0 for
 * --help; prints the problem and returns %NULL with @exit_code 125 for
 * invalid input.
 *
 * Returns: (transfer full) (nullable): the arguments that are not options
 */
GPtrArray *
sv_cli_parse (const SvCliInvocation *invocation, const SvCliOption *options, SvCliParseFlags flags,
              guint min_args, int max_args, const char *arg_names, int *exit_code)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  Parser parser = { invocation, options, 0, FALSE, NULL };
  gboolean options_ended = FALSE;

  for (parser.index = 0; parser.index < invocation->argc; parser.index++)
    {
      char *arg = invocation->argv[parser.index];
      gboolean ok = TRUE;

      if (options_ended || arg[0] != '-' || arg[1] == '\0')
        {
          g_ptr_array_add (args, arg);
          if (flags & SV_CLI_PARSE_STOP_AT_ARGUMENT)
            options_ended = TRUE;
          continue;
        }

      if (g_str_equal (arg, "--"))
        {
          options_ended = TRUE;
          continue;
        }

      ok = arg[1] == '-' ? parse_long (&parser) : parse_short (&parser);
      if (!ok)
        {
          *exit_code = sv_cli_usage_error (invocation, "%s", parser.problem);
          g_free (parser.problem);
          return NULL;
        }
    }

  if (parser.help)
    {
      sv_cli_print_help (invocation, options);
      *exit_code = 0;
      return NULL;
    }

  if (args->len < min_args || (max_args >= 0 && args->len > (guint)max_args))
    {
      *exit_code = report_arg_count (invocation, min_args, max_args, args->len, arg_names);
      return NULL;
    }

  *exit_code = 0;
  return g_steal_pointer (&args);
}
