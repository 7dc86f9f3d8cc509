/*
 * An open-loop HTTP/1.1 load generator for the check-in bench (tests/bench/checkin_http.py).
 *
 * The bench's load generator shares the machine's 2 cores with the gunicorn and PostgreSQL it
 * measures. Written with Python's asyncio it took 0.7 ms of CPU per request (0.2 cores at 300/s),
 * CPU a real door's phones never take from the server; this one takes what the kernel needs to open,
 * use and close a connection.
 *
 * usage: loadgen PORT SCHEDULE RESULTS TIMEOUT_MS
 *
 * SCHEDULE holds the requests in order of their due time, each as a line "<due_us> <length>\n"
 * followed by <length> bytes: the whole request, sent on a new connection to 127.0.0.1:PORT at
 * start + due_us whatever the server's state (open loop). The answer is read until the server closes
 * the connection (gunicorn's sync workers close after each answer).
 *
 * RESULTS gets one line per request, in the schedule's order: "<status> <latency_us>", the latency
 * counted from when the request was due (a request that could only start late counts from then, so
 * a stall is not hidden), status 0 when there was no answer (refused, reset, or TIMEOUT_MS passed).
 * On standard output: "start <unix time in microseconds>" of the schedule's zero, and at the end
 * "cpu <seconds>": the CPU the run took (sending and reading, not loading the schedule).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum state { WAITING, CONNECTING, SENDING, READING, DONE };

struct request {
    int64_t due_us;
    char *bytes;
    size_t length, sent;
    int fd, status;
    enum state state;
    char head[16];
    size_t head_length;
    int64_t latency_us;
};

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static char *read_file(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) die(path);
    if (fseek(file, 0, SEEK_END) != 0) die("fseek");
    long length = ftell(file);
    if (length < 0) die("ftell");
    rewind(file);
    char *data = malloc((size_t)length + 1);
    if (!data || fread(data, 1, (size_t)length, file) != (size_t)length) die("read schedule");
    fclose(file);
    data[length] = 0;
    *size = (size_t)length;
    return data;
}

static struct request *parse_schedule(char *data, size_t size, size_t *count) {
    size_t capacity = 1024, n = 0;
    struct request *requests = malloc(capacity * sizeof *requests);
    char *at = data, *end = data + size;
    int64_t previous = 0;
    while (at < end) {
        /* strtoll, not sscanf: glibc's sscanf measures the whole rest of the schedule on every call */
        char *line_end = memchr(at, '\n', (size_t)(end - at)), *after_due, *after_length;
        long long due = line_end ? strtoll(at, &after_due, 10) : -1;
        unsigned long long length = line_end ? strtoull(after_due, &after_length, 10) : 0;
        if (!line_end || after_due == at || after_length == after_due || after_length != line_end ||
            due < previous || length > (unsigned long long)(end - line_end - 1)) {
            fprintf(stderr, "loadgen: bad schedule record %zu\n", n);
            exit(2);
        }
        if (n == capacity) {
            capacity *= 2;
            requests = realloc(requests, capacity * sizeof *requests);
            if (!requests) die("realloc");
        }
        requests[n] = (struct request){.due_us = due, .bytes = line_end + 1, .length = (size_t)length, .fd = -1};
        previous = due;
        at = line_end + 1 + length;
        n++;
    }
    *count = n;
    return requests;
}

static void finish(struct request *request, int epoll, int64_t now) {
    if (request->fd >= 0) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, request->fd, NULL);
        close(request->fd);
        request->fd = -1;
    }
    int status = 0;
    const char *code = request->head + 9;
    if (request->head_length >= 12 && memcmp(request->head, "HTTP/1.", 7) == 0 && request->head[8] == ' ' &&
        code[0] >= '1' && code[0] <= '5' && code[1] >= '0' && code[1] <= '9' && code[2] >= '0' && code[2] <= '9') {
        status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    }
    request->status = status;
    request->latency_us = now - request->due_us;
    request->state = DONE;
}

static void start(struct request *request, size_t index, int epoll, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        request->state = CONNECTING;  /* counted as no answer (e.g. out of descriptors) */
        finish(request, epoll, now_us());
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    request->fd = fd;
    request->state = CONNECTING;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS) {
        finish(request, epoll, now_us());
        return;
    }
    struct epoll_event event = {.events = EPOLLOUT, .data.u64 = index};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl add");
}

static void send_some(struct request *request, int epoll, size_t index) {
    while (request->sent < request->length) {
        ssize_t sent = send(request->fd, request->bytes + request->sent, request->length - request->sent,
                            MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            finish(request, epoll, now_us());
            return;
        }
        request->sent += (size_t)sent;
    }
    request->state = READING;
    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = index};
    if (epoll_ctl(epoll, EPOLL_CTL_MOD, request->fd, &event) < 0) die("epoll_ctl mod");
}

static void receive(struct request *request, int epoll) {
    char buffer[16384];
    for (;;) {
        ssize_t got = recv(request->fd, buffer, sizeof buffer, 0);
        if (got > 0) {
            size_t room = sizeof request->head - request->head_length;
            size_t keep = (size_t)got < room ? (size_t)got : room;
            memcpy(request->head + request->head_length, buffer, keep);
            request->head_length += keep;
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (got < 0 && request->head_length < 12) request->head_length = 0;  /* reset before a status line */
        finish(request, epoll, now_us());
        return;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT SCHEDULE RESULTS TIMEOUT_MS\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int64_t timeout_us = (int64_t)atoll(argv[4]) * 1000;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {  /* a stalled server can leave thousands in flight */
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    size_t size, count;
    char *data = read_file(argv[2], &size);
    struct request *requests = parse_schedule(data, size, &count);

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll < 0 || timer < 0) die("epoll/timerfd");
    struct epoll_event timer_event = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event) < 0) die("epoll_ctl timer");

    struct rusage before_run;  /* the run's own CPU, without reading the schedule */
    getrusage(RUSAGE_SELF, &before_run);
    double cpu_before_run = (double)(before_run.ru_utime.tv_sec + before_run.ru_stime.tv_sec) +
                            (double)(before_run.ru_utime.tv_usec + before_run.ru_stime.tv_usec) / 1e6;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t zero = now_us() + 200000;
    printf("start %lld\n", (long long)((int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000 + 200000));
    fflush(stdout);
    for (size_t i = 0; i < count; i++) requests[i].due_us += zero;

    size_t next = 0, done = 0, oldest = 0;
    int64_t last_sweep = now_us();
    struct epoll_event events[256];
    while (done < count) {
        int64_t now = now_us();
        while (next < count && requests[next].due_us <= now) {
            start(&requests[next], next, epoll, port);
            next++;
        }
        if (next < count) {
            int64_t due = requests[next].due_us;
            struct itimerspec when = {.it_value = {.tv_sec = due / 1000000, .tv_nsec = (due % 1000000) * 1000}};
            if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL) < 0) die("timerfd_settime");
        }
        int ready = epoll_wait(epoll, events, 256, 50);
        if (ready < 0 && errno != EINTR) die("epoll_wait");
        for (int e = 0; e < ready; e++) {
            if (events[e].data.u64 == UINT64_MAX) {
                uint64_t expirations;
                ssize_t ignored = read(timer, &expirations, sizeof expirations);
                (void)ignored;
                continue;
            }
            size_t index = (size_t)events[e].data.u64;
            struct request *request = &requests[index];
            if (request->state == CONNECTING) {
                int error = 0;
                socklen_t length = sizeof error;
                getsockopt(request->fd, SOL_SOCKET, SO_ERROR, &error, &length);
                if (error != 0) {
                    finish(request, epoll, now_us());
                    continue;
                }
                request->state = SENDING;
            }
            if (request->state == SENDING) send_some(request, epoll, index);
            else if (request->state == READING) receive(request, epoll);
        }
        now = now_us();
        if (now - last_sweep > 50000) {  /* give up on answers older than the timeout */
            last_sweep = now;
            while (oldest < next && requests[oldest].state == DONE) oldest++;
            for (size_t i = oldest; i < next; i++) {
                if (requests[i].state != DONE && now - requests[i].due_us > timeout_us) {
                    requests[i].head_length = 0;
                    finish(&requests[i], epoll, now);
                }
            }
        }
        done = 0;
        for (size_t i = oldest; i < next; i++) done += requests[i].state == DONE;
        done += oldest;
    }

    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    printf("cpu %.6f\n", cpu - cpu_before_run);
    FILE *results = fopen(argv[3], "w");
    if (!results) die(argv[3]);
    for (size_t i = 0; i < count; i++) {
        fprintf(results, "%d %lld\n", requests[i].status, (long long)requests[i].latency_us);
    }
    if (fclose(results) != 0) die("write results");
    return 0;
}
