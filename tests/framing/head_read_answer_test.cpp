// head_read_answer (proxy/http/exchange_loop.hpp): the one rule every mode applies to a request
// head that could not be read.
#include "proxy/http/exchange_loop.hpp"

#include <boost/beast/http/error.hpp>

#include <catch2/catch.hpp>

using namespace tlsprobe::proxy;
namespace http = boost::beast::http;

TEST_CASE("head_read_answer: 431, 408, 400 or a quiet close") {
  const auto status = [](const std::optional<ErrorAnswer>& a) {
    return a ? static_cast<int>(a->status) : 0;
  };
  // Too large, whatever else is true.
  CHECK(status(head_read_answer(http::error::header_limit, 100, false, false, 4096)) == 431);
  CHECK(status(head_read_answer(http::error::buffer_overflow, 100, true, true, 4096)) == 431);
  CHECK(head_read_answer(http::error::header_limit, 0, false, true, 4096)->reason ==
        "request header too large (limit 4096 bytes)");
  // Timed out: the first request, or an unfinished head, is a 408; silence between requests
  // is a keep-alive connection ending.
  const boost::system::error_code aborted = boost::asio::error::operation_aborted;
  CHECK(status(head_read_answer(aborted, 0, true, true, 4096)) == 408);
  CHECK(status(head_read_answer(aborted, 12, true, false, 4096)) == 408);
  CHECK(status(head_read_answer(aborted, 0, true, false, 4096)) == 0);
  // The client left: nobody to answer.
  CHECK(status(head_read_answer(http::error::end_of_stream, 0, false, true, 4096)) == 0);
  CHECK(status(head_read_answer(http::error::partial_message, 7, false, false, 4096)) == 0);
  CHECK(status(head_read_answer(boost::asio::error::connection_reset, 3, false, true, 4096)) == 0);
  // Bytes that do not parse.
  CHECK(status(head_read_answer(http::error::bad_method, 5, false, true, 4096)) == 400);
  CHECK(head_read_answer(http::error::bad_method, 5, false, true, 4096)
            ->reason.rfind("bad request: ", 0) == 0);
  CHECK_FALSE(head_read_answer({}, 0, false, true, 4096));
}
