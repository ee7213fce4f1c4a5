/* The clocks and the timestamp format (see clock.h). */
#include "clock.h"

#include <stdio.h>

static char *two_digits(char *p, int v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

void arbor_time_rfc3339(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	int year = tm.tm_year + 1900;
	long ms = ts->tv_nsec / 1000000;
	if (len < sizeof "2000-01-01T00:00:00.000Z" || year < 0 || year > 9999 || ms < 0 || ms > 999) {
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ms);
		return;
	}
	/* The same text by hand: snprintf was a third of an event's own cost. */
	char *p = two_digits(two_digits(buf, year / 100), year % 100);
	*p++ = '-';
	p = two_digits(p, tm.tm_mon + 1);
	*p++ = '-';
	p = two_digits(p, tm.tm_mday);
	*p++ = 'T';
	p = two_digits(p, tm.tm_hour);
	*p++ = ':';
	p = two_digits(p, tm.tm_min);
	*p++ = ':';
	p = two_digits(p, tm.tm_sec);
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	p = two_digits(p, (int)(ms % 100));
	*p++ = 'Z';
	*p = '\0';
}

double arbor_time_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct timeval arbor_timeval(double seconds)
{
	if (!(seconds > 0))
		return (struct timeval){ 0, 0 };
	struct timeval tv = { (time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	return tv;
}

double arbor_time_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
