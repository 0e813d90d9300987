// Package haproxy parses an HAProxy configuration file (haproxy.cfg) into sections and
// directives with their line numbers, splitting every line into words exactly as HAProxy 2.6
// does. It makes no policy decision and knows no keyword beyond the section keywords and the
// dot-directives: webhook/policy decides what is allowed. It imports only the standard library.
//
// # Lines
//
// Lines end with a line feed; a carriage return right before it (CRLF) or at the end of the file
// is dropped. There is no line continuation: a backslash at the end of a line is an ordinary
// character. Parse reports a NUL byte, a carriage return anywhere else (HAProxy would silently
// ignore the rest of the line), a line longer than MaxLineLength, and a line of more than
// MaxWords words. A file without a final line feed is parsed, and flagged in
// Config.MissingFinalNewline because HAProxy 2.6 refuses it.
//
// # Words
//
// As in HAProxy's parse_line():
//   - blanks (space, tab, vertical tab, form feed) separate words; leading blanks are skipped;
//   - '#' outside quotes starts a comment, even in the middle of a word (a#b is the word a);
//   - single quotes enclose literal text: no escape, no variable;
//   - double quotes enclose text in which backslash escapes and environment variables work;
//   - quoted and unquoted parts concatenate into one word: "${NODE_IP}":10249 is one word, and
//     "" is an empty word;
//   - outside single quotes, \<space>, \\, \#, \', \" stand for the character, \t, \n, \r for
//     tab, line feed and carriage return, \xHH for a byte; \$ stands for '$' inside double quotes
//     only; any other backslash (\1, \., a final \) stays as written. A \x not followed by two hex
//     digits is an error;
//   - inside double quotes, $NAME, ${NAME}, ${NAME-default} and ${NAME[*]} reference environment
//     variables, and $.LINE, $.FILE, $.SECTION pseudo-variables; a malformed reference is an
//     error. Outside quotes '$' is an ordinary character for the tokenizer. HAProxy expands them
//     while it splits: the default is written in the file, [*] splits the value at each run of
//     blanks into several words, $.SECTION on a header is the previous section's name. The
//     tests check this reading against HAProxy on 100,000 generated lines.
//
// Each Word keeps its Raw text and its Value; Value keeps variable references as written instead
// of expanding them, so "${NODE_IP}":10249 has the Value ${NODE_IP}:10249. Keyword parsers that
// read addresses (bind, server, ...) expand '$' references in that value again, whatever the
// quoting was; see Word.HasVar.
//
// # Sections and directives
//
// A line whose first word is a section keyword (see SectionKind; matched case-sensitively, after
// unquoting, like HAProxy) opens a Section; the following lines are its Directives. Directives
// before the first section go to a Section of kind NoSection. The headers of defaults, frontend,
// backend and listen may name a defaults section with "from NAME" (Section.From).
//
// Conditional blocks (.if, .elif, .else, .endif) and messages (.notice, .warning, .alert, .diag)
// are kept as directives of kind Conditional and Message, in the section where they appear;
// they are not evaluated, so every line they enclose is kept and a header inside a block opens
// its section as usual. Parse checks that blocks nest. A "[name]" scope line is kept as a
// directive of kind Scope.
//
// # Errors and bounds
//
// Parse returns an ErrorList of *SyntaxError, each with its line, column and one of the Err*
// sentinels, and still returns every line it could read. It returns the first MaxErrors errors
// and counts the others in Config.OmittedErrors, so that a hostile file costs no more than a bad
// one. Walk reads a file as Parse does but hands each section and directive to a callback
// instead of keeping them: its memory does not grow with the input.
package haproxy
